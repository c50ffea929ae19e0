package polyplug

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// openChannel opens the byte stream POLYPLUG_TRANSPORT names (docs/protocol.md §2).
func openChannel(transport string) (io.Reader, io.Writer, error) {
	switch transport {
	case "stdio":
		// The channel keeps a private copy of fd 1; fd 1 then points at stderr, so a stray print
		// from plugin code goes to the host's log instead of corrupting the channel (§2.1).
		fd, err := syscall.Dup(1)
		if err != nil {
			return nil, nil, err
		}
		if err := syscall.Dup3(2, 1, 0); err != nil {
			return nil, nil, err
		}
		return os.Stdin, os.NewFile(uintptr(fd), "polyplug-channel"), nil
	case "fifo":
		// OUT first, then IN: the other order can deadlock (§2.2).
		out, err := os.OpenFile(os.Getenv("POLYPLUG_FIFO_OUT"), os.O_WRONLY, 0)
		if err != nil {
			return nil, nil, err
		}
		in, err := os.Open(os.Getenv("POLYPLUG_FIFO_IN"))
		if err != nil {
			return nil, nil, err
		}
		return in, out, nil
	case "unix":
		conn, err := net.Dial("unix", os.Getenv("POLYPLUG_SOCKET"))
		if err != nil {
			return nil, nil, err
		}
		return conn, conn, nil
	case "tcp":
		conn, err := net.Dial("tcp", os.Getenv("POLYPLUG_ADDRESS"))
		if err != nil {
			return nil, nil, err
		}
		_ = conn.(*net.TCPConn).SetNoDelay(true)
		return conn, conn, nil
	}
	return nil, nil, fmt.Errorf("the Go kit speaks transports stdio, fifo, unix and tcp, not %q", transport)
}

// toWire turns []byte into {"$bytes": base64} anywhere in a value (§4).
func toWire(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bytes": base64.StdEncoding.EncodeToString(x)}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toWire(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toWire(e)
		}
		return out
	}
	return v
}

// fromWireValue turns every {"$bytes": base64} into []byte; invalid base64 stays as it is (§4).
func fromWireValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["$bytes"].(string); ok && len(x) == 1 {
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				return b
			}
			return x
		}
		for k, e := range x {
			x[k] = fromWireValue(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fromWireValue(e)
		}
	}
	return v
}

// binaryCapability: bytes as attachments after the JSON text (docs/protocol.md §4.1), used once
// the host offered it in $/hello and this kit answered it.
const binaryCapability = "binary"

// encodeAttached is a message with every []byte as {"$bin":[offset,length]} and the bytes after
// the JSON text: 0x00, the JSON length (u32 big-endian), the JSON, the attachments. A message
// without bytes is plain JSON.
func encodeAttached(message any) ([]byte, error) {
	var parts [][]byte
	offset := 0
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case []byte:
			parts = append(parts, x)
			ref := map[string]any{"$bin": []int{offset, len(x)}}
			offset += len(x)
			return ref
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e)
			}
			return out
		}
		return v
	}
	text, err := json.Marshal(walk(message))
	if err != nil || len(parts) == 0 {
		return text, err
	}
	body := make([]byte, 5+len(text), 5+len(text)+offset)
	binary.BigEndian.PutUint32(body[1:5], uint32(len(text)))
	copy(body[5:], text)
	for _, part := range parts {
		body = append(body, part...)
	}
	return body, nil
}

// splitAttached separates a message with attachments into its JSON text and attachment area; a
// plain JSON message is all text.
func splitAttached(body []byte) (text, area []byte, err error) {
	if len(body) == 0 || body[0] != 0x00 {
		return body, nil, nil
	}
	if len(body) < 5 {
		return nil, nil, fmt.Errorf("a message with attachments needs a 5-byte head")
	}
	n := binary.BigEndian.Uint32(body[1:5])
	if uint64(5)+uint64(n) > uint64(len(body)) {
		return nil, nil, fmt.Errorf("its JSON text of %d bytes runs past the end of the message", n)
	}
	return body[5 : 5+n], body[5+n:], nil
}

// fromWireIn is fromWireValue for a message with attachments: {"$bin":[offset,length]} becomes
// that slice of the area (no copy); a reference outside it is an error.
func fromWireIn(v any, area []byte) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$bin"]; ok && len(x) == 1 {
			r, ok := ref.([]any)
			if !ok || len(r) != 2 {
				return nil, fmt.Errorf("attachment reference %v is not [offset, length]", ref)
			}
			off, ok1 := r[0].(float64)
			size, ok2 := r[1].(float64)
			if !ok1 || !ok2 || off < 0 || size < 0 || off != float64(int(off)) || size != float64(int(size)) || off+size > float64(len(area)) {
				return nil, fmt.Errorf("attachment reference %v lies outside the %d-byte attachment area", ref, len(area))
			}
			return area[int(off) : int(off)+int(size) : int(off)+int(size)], nil
		}
		if s, ok := x["$bytes"].(string); ok && len(x) == 1 {
			_ = s
			return fromWireValue(x), nil
		}
		for k, e := range x {
			d, err := fromWireIn(e, area)
			if err != nil {
				return nil, err
			}
			x[k] = d
		}
	case []any:
		for i, e := range x {
			d, err := fromWireIn(e, area)
			if err != nil {
				return nil, err
			}
			x[i] = d
		}
	}
	return v, nil
}
