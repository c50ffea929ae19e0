// The conformance interface (docs/conformance.md) in Go, on kits/go/polyplug (standard library only).
package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"polyplug-plugin/polyplug"
)

var cancelled, produced int64

func main() {
	p := polyplug.New()
	p.Method("echo", func(ctx *polyplug.Ctx, params []any) (any, error) {
		return polyplug.Arg(params, 0), nil
	})
	p.Method("add", func(ctx *polyplug.Ctx, params []any) (any, error) {
		a, err := polyplug.Number(params, 0)
		if err != nil {
			return nil, err
		}
		b, err := polyplug.Number(params, 1)
		if err != nil {
			return nil, err
		}
		return a + b, nil
	})
	p.Method("fail", func(ctx *polyplug.Ctx, params []any) (any, error) {
		code, ok := polyplug.Arg(params, 0).(string)
		if !ok {
			code = "E_CONFORMANCE"
		}
		return nil, polyplug.NewError(code, fmt.Sprintf("failed on request with code %s", code))
	})
	p.Method("sleep", func(ctx *polyplug.Ctx, params []any) (any, error) {
		ms, err := polyplug.Number(params, 0)
		if err != nil {
			return nil, err
		}
		if err := ctx.Sleep(time.Duration(ms) * time.Millisecond); err != nil {
			atomic.AddInt64(&cancelled, 1)
			return nil, err
		}
		return ms, nil
	})
	p.Method("cancelCount", func(ctx *polyplug.Ctx, params []any) (any, error) {
		return atomic.LoadInt64(&cancelled), nil
	})
	p.Method("bytes", func(ctx *polyplug.Ctx, params []any) (any, error) {
		n, err := polyplug.Number(params, 0)
		if err != nil {
			return nil, err
		}
		out := make([]byte, int(n))
		for i := range out {
			out[i] = byte(i)
		}
		return out, nil
	})
	p.Method("callHost", func(ctx *polyplug.Ctx, params []any) (any, error) {
		method, _ := polyplug.Arg(params, 0).(string)
		args, _ := polyplug.Arg(params, 1).([]any)
		return ctx.Call(method, args...)
	})
	// A stream out: 0..n-1; with a second argument, fails with E_STREAM there. Stopped early, it counts as cancelled.
	p.Method("count", func(ctx *polyplug.Ctx, params []any) (any, error) {
		n, err := polyplug.Number(params, 0)
		if err != nil {
			return nil, err
		}
		failAt, failing := polyplug.Arg(params, 1).(float64)
		return polyplug.Produce(func(emit func(any) error) error {
			for i := 0; i < int(n); i++ {
				if failing && i == int(failAt) {
					return polyplug.NewError("E_STREAM", fmt.Sprintf("count failed at %d", i))
				}
				atomic.AddInt64(&produced, 1)
				if err := emit(i); err != nil {
					atomic.AddInt64(&cancelled, 1)
					return err
				}
			}
			return nil
		}), nil
	})
	p.Method("produced", func(ctx *polyplug.Ctx, params []any) (any, error) {
		return atomic.LoadInt64(&produced), nil
	})
	// A stream in: adds its numbers and the lengths of its byte chunks.
	p.Method("sum", func(ctx *polyplug.Ctx, params []any) (any, error) {
		items, ok := polyplug.Arg(params, 0).(*polyplug.Incoming)
		if !ok {
			return nil, polyplug.NewError("INVALID_PARAMS", "sum takes a stream")
		}
		total := 0.0
		for {
			item, more := items.Next()
			if !more {
				break
			}
			switch v := item.(type) {
			case float64:
				total += v
			case []byte:
				total += float64(len(v))
			}
		}
		if err := items.Err(); err != nil {
			return nil, err
		}
		return total, nil
	})
	p.Method("crash", func(ctx *polyplug.Ctx, params []any) (any, error) {
		os.Exit(70)
		return nil, nil
	})
	p.OnActivate = func(p *polyplug.Plugin, config any) { p.Log("debug", "activated "+p.ID) }
	p.Run()
}
