package polyplug

import (
	"encoding/base64"
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
