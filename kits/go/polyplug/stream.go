package polyplug

// Streams (docs/protocol.md §7.1). A method returns a stream with Produce: each emit sends one
// item, waiting (without spinning) until the consumer has granted credit, so a slow consumer holds
// the producer to its window. A {"$stream": ID} argument arrives as an *Incoming, read with Next.
//
//	p.Method("count", func(ctx *polyplug.Ctx, params []any) (any, error) {
//		n, _ := polyplug.Number(params, 0)
//		return polyplug.Produce(func(emit func(any) error) error {
//			for i := 0; i < int(n); i++ {
//				if err := emit(i); err != nil {
//					return err // the consumer stopped (or the host is gone): stop producing
//				}
//			}
//			return nil
//		}), nil
//	})

import (
	"encoding/json"
	"sync"
)

// DefaultWindow is the credit an Incoming grants when reading starts (the Node peer's default).
const DefaultWindow = 16

// Stream is a method result that is a sequence of items; make one with Produce.
type Stream struct {
	produce func(emit func(item any) error) error
}

// Produce makes a stream result. fn calls emit for each item; emit blocks until the consumer has
// granted credit, and returns RPC_CANCELLED once the consumer cancelled: fn should then return.
// fn returning an error ends the stream with that error (an *Error keeps its code), after the
// items emitted before it.
func Produce(fn func(emit func(item any) error) error) *Stream { return &Stream{produce: fn} }

type outgoing struct {
	mu        sync.Mutex
	cond      *sync.Cond
	credit    int
	cancelled bool
	ctx       *Ctx
}

// Incoming is a stream the host passes as an argument. Read it with Next until it returns false,
// then check Err; Close stops it early (the host's producer is told to stop).
type Incoming struct {
	streams     *streams
	id          float64
	window      int
	mu          sync.Mutex
	cond        *sync.Cond
	items       []any
	outstanding int
	taken       int
	started     bool
	finished    bool
	err         error
}

// Next waits for the next item; false when the stream has ended (then see Err).
func (in *Incoming) Next() (any, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.started {
		in.started = true
		if !in.finished {
			in.grant(in.window)
		}
	}
	for len(in.items) == 0 && !in.finished {
		in.cond.Wait()
	}
	if len(in.items) == 0 {
		return nil, false
	}
	value := in.items[0]
	in.items[0] = nil
	in.items = in.items[1:]
	in.taken++
	if !in.finished && in.taken*2 >= in.window {
		in.grant(in.taken)
		in.taken = 0
	}
	return value, true
}

// Err is the producer's error once Next returned false, or nil when the stream ended normally.
func (in *Incoming) Err() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}

// Close stops reading: the producer is told to stop. Closing an ended stream does nothing.
func (in *Incoming) Close() {
	in.mu.Lock()
	if in.finished {
		in.mu.Unlock()
		return
	}
	in.finishLocked(nil)
	in.items = nil
	in.mu.Unlock()
	in.streams.notify("$/stream/cancel", map[string]any{"stream": in.id})
}

func (in *Incoming) grant(n int) {
	in.outstanding += n
	in.streams.notify("$/stream/credit", map[string]any{"stream": in.id, "n": n})
}

func (in *Incoming) push(value any) {
	in.mu.Lock()
	if in.finished {
		in.mu.Unlock()
		return
	}
	if in.outstanding <= 0 {
		in.finishLocked(NewError("STREAM_OVERRUN", "the producer sent more items than it was granted"))
		in.mu.Unlock()
		in.streams.notify("$/stream/cancel", map[string]any{"stream": in.id})
		return
	}
	in.outstanding--
	in.items = append(in.items, value)
	in.cond.Broadcast()
	in.mu.Unlock()
}

func (in *Incoming) end(err *Error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.finished {
		in.finishLocked(err)
	}
}

func (in *Incoming) finishLocked(err *Error) {
	in.finished = true
	if err != nil {
		in.err = err
	}
	in.streams.forget(in)
	in.cond.Broadcast()
}

// streams holds every stream of one plugin's channel: those it produces and those it consumes.
type streams struct {
	plugin    *Plugin
	mu        sync.Mutex
	producing map[float64]*outgoing
	consuming map[float64]*Incoming
	next      float64
}

func newStreams(p *Plugin) *streams {
	return &streams{plugin: p, producing: map[float64]*outgoing{}, consuming: map[float64]*Incoming{}}
}

func (s *streams) notify(method string, params map[string]any) {
	s.plugin.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

func (s *streams) forget(in *Incoming) {
	s.mu.Lock()
	if s.consuming[in.id] == in {
		delete(s.consuming, in.id)
	}
	s.mu.Unlock()
}

// streamRef is the id of a {"$stream": ID} marker (an object with that single key and an integer).
func streamRef(v any) (float64, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return 0, false
	}
	id, ok := m["$stream"].(float64)
	return id, ok && id == float64(int64(id))
}

// consumeArgs replaces each {"$stream": ID} argument with an *Incoming and returns them.
func (s *streams) consumeArgs(args []any) []*Incoming {
	var opened []*Incoming
	for i, v := range args {
		if id, ok := streamRef(v); ok {
			in := &Incoming{streams: s, id: id, window: DefaultWindow}
			in.cond = sync.NewCond(&in.mu)
			s.mu.Lock()
			s.consuming[id] = in
			s.mu.Unlock()
			args[i] = in
			opened = append(opened, in)
		}
	}
	return opened
}

// produce registers a result stream and starts its producer; the marker goes into the response.
// finish runs when the producer is done (the call's argument streams live until then).
func (s *streams) produce(stream *Stream, ctx *Ctx, finish func()) map[string]any {
	state := &outgoing{ctx: ctx}
	state.cond = sync.NewCond(&state.mu)
	s.mu.Lock()
	s.next++
	id := s.next
	s.producing[id] = state
	s.mu.Unlock()
	go s.pump(id, state, stream, finish)
	return map[string]any{"$stream": id}
}

func (s *streams) pump(id float64, state *outgoing, stream *Stream, finish func()) {
	emit := func(item any) error {
		state.mu.Lock()
		for state.credit == 0 && !state.cancelled {
			state.cond.Wait()
		}
		if state.cancelled {
			state.mu.Unlock()
			return NewError("RPC_CANCELLED", "the consumer cancelled the stream")
		}
		state.credit--
		state.mu.Unlock()
		s.notify("$/stream/item", map[string]any{"stream": id, "value": item})
		return nil
	}
	// Nothing is sent before the consumer's first credit or cancel: those come only after the host
	// has read the response announcing the stream, so an item or end cannot overtake it.
	state.mu.Lock()
	for state.credit == 0 && !state.cancelled {
		state.cond.Wait()
	}
	started := !state.cancelled
	state.mu.Unlock()
	err := func() (err error) {
		if !started {
			return nil
		}
		defer func() {
			if r := recover(); r != nil {
				err = NewError("INTERNAL_ERROR", "the stream producer of "+state.ctx.Method+" panicked")
			}
		}()
		return stream.produce(emit)
	}()
	s.mu.Lock()
	delete(s.producing, id)
	s.mu.Unlock()
	finish()
	state.mu.Lock()
	cancelled := state.cancelled
	state.mu.Unlock()
	if cancelled {
		return // the consumer stopped it: nothing more is sent for this stream
	}
	if err != nil {
		s.notify("$/stream/end", map[string]any{"stream": id, "error": s.plugin.errorFor(err, state.ctx.Method)})
		return
	}
	s.notify("$/stream/end", map[string]any{"stream": id})
}

// receive handles a $/stream/* notification (its bytes, if any, in the attachment area): item and end for streams the host produces, credit
// and cancel for those this plugin produces. Anything for an unknown stream is ignored.
func (s *streams) receive(method string, raw json.RawMessage, area []byte) {
	params, ok := decode(raw, area).(map[string]any)
	if !ok {
		return
	}
	id, ok := params["stream"].(float64)
	if !ok {
		return
	}
	switch method {
	case "$/stream/item", "$/stream/end":
		s.mu.Lock()
		in := s.consuming[id]
		s.mu.Unlock()
		if in == nil {
			return
		}
		if method == "$/stream/item" {
			in.push(params["value"])
			return
		}
		var err *Error
		if e, ok := params["error"].(map[string]any); ok {
			code, _ := e["code"].(float64)
			message, _ := e["message"].(string)
			err = fromWire(int(code), message, e["data"])
		}
		in.end(err)
	case "$/stream/credit", "$/stream/cancel":
		s.mu.Lock()
		state := s.producing[id]
		s.mu.Unlock()
		if state == nil {
			return
		}
		state.mu.Lock()
		if method == "$/stream/credit" {
			if n, ok := params["n"].(float64); ok && n >= 1 {
				state.credit += int(n)
			}
		} else {
			state.cancelled = true
		}
		state.cond.Broadcast()
		state.mu.Unlock()
		if method == "$/stream/cancel" {
			state.ctx.cancel() // a producer watching ctx.Done() or in ctx.Sleep stops too
		}
	}
}

// serve runs a handler with stream arguments opened and a stream result produced: the argument
// streams are closed when the call answers a plain value or an error, or when its result stream ends.
func (s *streams) serve(h Handler, ctx *Ctx, args []any) (any, error) {
	opened := s.consumeArgs(args)
	closeArgs := func() {
		for _, in := range opened {
			in.Close()
		}
	}
	result, err := h(ctx, args)
	if stream, ok := result.(*Stream); ok && err == nil {
		return s.produce(stream, ctx, closeArgs), nil
	}
	closeArgs()
	return result, err
}
