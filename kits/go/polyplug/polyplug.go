// Package polyplug is the polyplug sidecar kit for Go: standard library only, written from
// docs/protocol.md (version 1). Transports stdio, fifo, unix and tcp; length framing; JSON
// encoding with {"$bytes": base64} as []byte, or []byte as attachments after the JSON once the
// host offers the "binary" capability (§4.1); streams in both directions (stream.go). Each request
// runs on its own goroutine; $/cancel (and LSP's $/cancelRequest) closes the call's Ctx.Done channel.
//
//	p := polyplug.New()
//	p.Method("echo", func(ctx *polyplug.Ctx, params []any) (any, error) { return polyplug.Arg(params, 0), nil })
//	p.Run()
package polyplug

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Handler serves one method: params are the positional arguments (an object argument arrives as
// the only element). Return a value (nil is JSON null) or an error (an *Error keeps its code).
type Handler func(ctx *Ctx, params []any) (any, error)

// Error is a typed polyplug error: Code is the stable string code callers match on.
type Error struct {
	Code    string
	Message string
	Data    any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// NewError makes an *Error with a code from docs/protocol.md §5.1 or one of the plugin's own.
func NewError(code, message string) *Error { return &Error{Code: code, Message: message} }

// numericCodes are the JSON-RPC numbers of the protocol's string codes: schema/error-codes.json,
// which test/error-codes.test.ts checks this table against (docs/protocol.md 5.1). Any other string
// code is sent as applicationError.
var numericCodes = map[string]int{
	"PARSE_ERROR": -32700, "INVALID_REQUEST": -32600, "METHOD_NOT_FOUND": -32601,
	"INVALID_PARAMS": -32602, "INTERNAL_ERROR": -32603,
	"SERVER_NOT_INITIALIZED": -32002, "UNKNOWN_ERROR_CODE": -32001,
	"RPC_CANCELLED": -32800, "CONTENT_MODIFIED": -32801, "SERVER_CANCELLED": -32802, "REQUEST_FAILED": -32803,
	"RPC_TIMEOUT": -31001, "PERMISSION_DENIED": -31002, "FRAME_TOO_LARGE": -31003,
	"MESSAGE_TOO_DEEP": -31004, "DUPLICATE_REQUEST_ID": -31005,
}

const applicationError = -31000

var stringCodes = func() map[int]string {
	m := map[int]string{}
	for k, v := range numericCodes {
		m[v] = k
	}
	return m
}()

// Plugin is a sidecar plugin: its methods and the channel to the host.
type Plugin struct {
	methods    map[string]Handler
	OnActivate func(p *Plugin, config any)
	ID         string

	out      io.Writer
	writeMu  sync.Mutex
	maxFrame uint32
	// binary: $/hello agreed on bytes as attachments (docs/protocol.md §4.1).
	binary atomic.Bool

	mu       sync.Mutex
	inFlight map[string]*Ctx
	pending  map[string]chan response
	nextID   int
	streams  *streams
}

type response struct {
	result any
	err    *Error
}

// Ctx is one call: Done closes when the caller cancels it.
type Ctx struct {
	plugin    *Plugin
	Method    string
	done      chan struct{}
	closeOnce sync.Once
}

func (c *Ctx) cancel() { c.closeOnce.Do(func() { close(c.done) }) }

// Done closes when the call is cancelled.
func (c *Ctx) Done() <-chan struct{} { return c.done }

// Cancelled reports whether the call was cancelled.
func (c *Ctx) Cancelled() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Sleep waits d, or returns RPC_CANCELLED as soon as the call is cancelled.
func (c *Ctx) Sleep(d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-c.done:
		return NewError("RPC_CANCELLED", "cancelled by the caller")
	}
}

// Call calls the host API (e.g. "host/echo", "host/info") with positional arguments.
func (c *Ctx) Call(method string, params ...any) (any, error) {
	return c.plugin.Call(method, params...)
}

// Log sends $/log to the host: level is trace, debug, info, warn or error.
func (c *Ctx) Log(level, message string) { c.plugin.Log(level, message) }

// New makes an empty plugin; add methods with Method, then Run.
func New() *Plugin {
	p := &Plugin{methods: map[string]Handler{}, inFlight: map[string]*Ctx{}, pending: map[string]chan response{}, maxFrame: 16 << 20}
	p.streams = newStreams(p)
	return p
}

// Method adds a callable method.
func (p *Plugin) Method(name string, h Handler) *Plugin {
	p.methods[name] = h
	return p
}

// Arg is params[i], or nil when absent.
func Arg(params []any, i int) any {
	if i < len(params) {
		return params[i]
	}
	return nil
}

// Number is params[i] as a float64, or INVALID_PARAMS.
func Number(params []any, i int) (float64, error) {
	if n, ok := Arg(params, i).(float64); ok {
		return n, nil
	}
	return 0, NewError("INVALID_PARAMS", fmt.Sprintf("argument %d must be a number", i))
}

// Log sends $/log to the host.
func (p *Plugin) Log(level, message string) {
	p.send(map[string]any{"jsonrpc": "2.0", "method": "$/log", "params": map[string]any{"level": level, "message": message}})
}

// Call sends a request to the host and waits for its answer.
func (p *Plugin) Call(method string, params ...any) (any, error) {
	if params == nil {
		params = []any{}
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan response, 1)
	p.pending[strconv.Itoa(id)] = ch
	p.mu.Unlock()
	p.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	return r.result, nil
}

// Run serves the channel the environment names until $/shutdown or the end of the channel.
func (p *Plugin) Run() {
	if err := p.run(); err != nil {
		fmt.Fprintf(os.Stderr, "polyplug: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func (p *Plugin) run() error {
	if f := env("POLYPLUG_FRAMING", "length"); f != "length" {
		return fmt.Errorf("the Go kit speaks framing \"length\" only, not %q", f)
	}
	if e := env("POLYPLUG_ENCODING", "json"); e != "json" {
		return fmt.Errorf("the Go kit speaks encoding \"json\" only, not %q", e)
	}
	if s := os.Getenv("POLYPLUG_MAX_FRAME_BYTES"); s != "" {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			p.maxFrame = uint32(n)
		}
	}
	p.ID = os.Getenv("POLYPLUG_PLUGIN_ID")
	in, out, err := openChannel(env("POLYPLUG_TRANSPORT", "stdio"))
	if err != nil {
		return err
	}
	p.out = out
	go watchHost()
	reader := bufio.NewReaderSize(in, 64<<10)
	for {
		body, err := p.readFrame(reader)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p.receive(body)
	}
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// watchHost exits when the host process is gone (docs/protocol.md §9).
func watchHost() {
	pid, err := strconv.Atoi(os.Getenv("POLYPLUG_HOST_PID"))
	if err != nil || pid <= 0 {
		return
	}
	for range time.Tick(time.Second) {
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.Exit(0)
		}
	}
}

func (p *Plugin) readFrame(r *bufio.Reader) ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("FRAME_INVALID: the channel ended inside a frame header")
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(header[:])
	if n > p.maxFrame {
		return nil, fmt.Errorf("FRAME_TOO_LARGE: a frame of %d bytes is over the limit of %d", n, p.maxFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("FRAME_INVALID: the channel ended inside a frame")
	}
	return body, nil
}

func (p *Plugin) send(message map[string]any) {
	var body []byte
	var err error
	if p.binary.Load() {
		body, err = encodeAttached(message)
	} else {
		body, err = json.Marshal(toWire(message))
	}
	if err != nil {
		body, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": message["id"], "error": wireError(NewError("INTERNAL_ERROR", "cannot encode the result: "+err.Error()))})
	}
	frame := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	_, _ = p.out.Write(frame)
}

type message struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id"`
	Method  string           `json:"method"`
	Params  json.RawMessage  `json:"params"`
	Result  json.RawMessage  `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data"`
	} `json:"error"`
	// area: the attachment area of a message with attachments (§4.1); nil for plain JSON.
	area []byte
}

func (p *Plugin) receive(body []byte) {
	var m message
	text, area, err := splitAttached(body)
	if err == nil {
		err = json.Unmarshal(text, &m)
	}
	if err == nil && area != nil {
		var v any
		if err = json.Unmarshal(text, &v); err == nil {
			_, err = fromWireIn(v, area)
		}
	}
	if err != nil {
		p.send(map[string]any{"jsonrpc": "2.0", "id": nil, "error": wireError(NewError("PARSE_ERROR", err.Error()))})
		return
	}
	m.area = area
	var id any
	if m.ID != nil {
		if err := json.Unmarshal(*m.ID, &id); err != nil {
			id = nil
		}
	}
	switch {
	case m.JSONRPC != "2.0":
		if id != nil {
			p.send(map[string]any{"jsonrpc": "2.0", "id": id, "error": wireError(NewError("INVALID_REQUEST", "not a JSON-RPC 2.0 message"))})
		}
	case m.Method == "" && m.ID != nil:
		p.answered(idKey(id), m)
	case m.Method != "" && m.ID == nil:
		p.notification(m.Method, m.Params, m.area)
	case m.Method != "":
		p.request(id, m.Method, m.Params, m.area)
	}
}

func idKey(id any) string {
	switch v := id.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return "s:" + v
	}
	return fmt.Sprint(id)
}

func (p *Plugin) answered(key string, m message) {
	p.mu.Lock()
	ch := p.pending[key]
	delete(p.pending, key)
	p.mu.Unlock()
	if ch == nil {
		return
	}
	if m.Error != nil {
		ch <- response{err: fromWire(m.Error.Code, m.Error.Message, m.Error.Data)}
		return
	}
	ch <- response{result: decode(m.Result, m.area)}
}

func fromWire(code int, msg string, data any) *Error {
	e := &Error{Code: stringCodes[code], Message: msg}
	if e.Code == "" {
		e.Code = "INTERNAL_ERROR"
	}
	if d, ok := data.(map[string]any); ok {
		if c, ok := d["code"].(string); ok {
			e.Code = c
		}
		e.Data = d["data"]
	}
	return e
}

func (p *Plugin) notification(method string, raw json.RawMessage, area []byte) {
	if strings.HasPrefix(method, "$/stream/") {
		p.streams.receive(method, raw, area)
		return
	}
	if method != "$/cancel" && method != "$/cancelRequest" {
		return
	}
	var params struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &params) != nil {
		return
	}
	p.mu.Lock()
	ctx := p.inFlight[idKey(params.ID)]
	p.mu.Unlock()
	if ctx != nil {
		ctx.cancel()
	}
}

// decode reads a value of a message; `area` is its attachment area (nil for plain JSON).
func decode(raw json.RawMessage, area []byte) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	if area != nil {
		d, _ := fromWireIn(v, area) // checked in receive
		return d
	}
	return fromWireValue(v)
}

func params(raw json.RawMessage, area []byte) []any {
	switch v := decode(raw, area).(type) {
	case []any:
		return v
	case nil:
		return []any{}
	default:
		return []any{v}
	}
}

func (p *Plugin) request(id any, method string, raw json.RawMessage, area []byte) {
	reply := func(result any, err error) {
		if err != nil {
			p.send(map[string]any{"jsonrpc": "2.0", "id": id, "error": p.errorFor(err, method)})
			return
		}
		p.send(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
	}
	switch method {
	case "$/hello":
		reply(p.hello(decode(raw, area)))
		return
	case "$/activate":
		if p.OnActivate != nil {
			var config any
			if m, ok := decode(raw, area).(map[string]any); ok {
				config = m["config"]
			}
			p.OnActivate(p, config)
		}
		reply(map[string]any{}, nil)
		return
	case "$/ping", "$/config":
		reply(map[string]any{}, nil)
		return
	case "$/shutdown":
		reply(map[string]any{}, nil)
		os.Exit(0)
	}
	h := p.methods[method]
	if h == nil {
		reply(nil, NewError("METHOD_NOT_FOUND", fmt.Sprintf("%s has no method %q; its methods: %v", p.ID, method, p.names())))
		return
	}
	ctx := &Ctx{plugin: p, Method: method, done: make(chan struct{})}
	key := idKey(id)
	p.mu.Lock()
	if _, taken := p.inFlight[key]; taken {
		p.mu.Unlock()
		reply(nil, NewError("DUPLICATE_REQUEST_ID", fmt.Sprintf("request id %v is already in flight", id)))
		return
	}
	p.inFlight[key] = ctx
	p.mu.Unlock()
	go func() {
		defer func() {
			p.mu.Lock()
			delete(p.inFlight, key)
			p.mu.Unlock()
		}()
		defer func() {
			if r := recover(); r != nil {
				reply(nil, NewError("INTERNAL_ERROR", fmt.Sprintf("%s panicked: %v", method, r)))
			}
		}()
		reply(p.streams.serve(h, ctx, params(raw, area)))
	}()
}

func (p *Plugin) names() []string {
	names := make([]string, 0, len(p.methods))
	for name := range p.methods {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (p *Plugin) hello(params any) (any, error) {
	m, _ := params.(map[string]any)
	versions, _ := m["protocol"].([]any)
	speaks := false
	for _, v := range versions {
		if v == float64(1) {
			speaks = true
		}
	}
	if !speaks {
		return nil, NewError("PROTOCOL_MISMATCH", fmt.Sprintf("the Go kit speaks protocol 1; the host offered %v", m["protocol"]))
	}
	if id, ok := m["plugin"].(string); ok {
		p.ID = id
	}
	answer := map[string]any{"protocol": 1, "id": p.ID, "methods": p.names(), "encodings": []string{"json"}, "capabilities": []string{"streams"}, "token": os.Getenv("POLYPLUG_TOKEN")}
	// Bytes as attachments (§4.1): the kit frames by length only, which carries any byte.
	if offered, _ := m["capabilities"].([]any); contains(offered, binaryCapability) {
		answer["capabilities"] = []string{"streams", binaryCapability}
		p.binary.Store(true)
	}
	return answer, nil
}

func contains(values []any, want string) bool {
	for _, v := range values {
		if v == want {
			return true
		}
	}
	return false
}

func (p *Plugin) errorFor(err error, method string) map[string]any {
	e, ok := err.(*Error)
	if !ok {
		e = NewError("INTERNAL_ERROR", err.Error())
	}
	return wireError(&Error{Code: e.Code, Message: e.Message, Data: map[string]any{"code": e.Code, "plugin": p.ID, "method": method, "data": e.Data}})
}

func wireError(e *Error) map[string]any {
	code, ok := numericCodes[e.Code]
	if !ok {
		code = applicationError
	}
	data := e.Data
	if data == nil {
		data = map[string]any{"code": e.Code}
	}
	return map[string]any{"code": code, "message": e.Message, "data": data}
}
