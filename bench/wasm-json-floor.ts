/**
 * The floor of any JSON ABI over a wasm call: the raw hand call (bench/workers/raw-wasm.ts `call`:
 * `polyplug_alloc`/`polyplug_free` of the input, the packed i64 taken apart as a BigInt) plus only
 * the JSON a JSON-RPC method call cannot avoid, and nothing else — the params as JSON text written
 * into guest memory behind the method's name, the result's JSON text read back as a value. Each
 * step the cheapest way known here: scalars (numbers, booleans, null, plain short strings) to and
 * from JSON text without the engine's JSON built-ins (src/kinds/wasm-json.ts, as the wasm kind
 * does), other values through `JSON.stringify` / `JSON.parse`; UTF-8 writes and reads through one
 * Buffer over the memory (made again only after the memory grew); short ASCII text by a JS loop,
 * which beats the call into C++ below a few dozen characters. In a file of its own so that the raw
 * echo's worker (and the footprint bench's bare wasm worker) load no more than the raw call.
 */
import { NOT_SCALAR, scalarAt, scalarsJson } from '../src/kinds/wasm-json.js'
import type { RawWasm } from './workers/raw-wasm.js'

const LOOP_MAX = 48

/** `json(method, params)`: the call through the JSON ABI floor; `method` is the name's UTF-8 bytes. */
export function jsonFloor(raw: RawWasm): (method: Uint8Array, params: unknown[]) => unknown {
  const e = raw.exports
  const memory = raw.memory
  let view = Buffer.from(memory.buffer)
  const bytes = (end: number) => (end <= view.length ? view : (view = Buffer.from(memory.buffer)))
  return (method, params) => {
    const text = scalarsJson(params) ?? JSON.stringify(params)
    const room = method.length + text.length * 3 // UTF-8's worst case: the text is not measured first
    const ptr = e.polyplug_alloc!(room)
    let b = bytes(ptr + room)
    b.set(method, ptr)
    let n = -1
    if (text.length <= LOOP_MAX) {
      n = text.length
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (c > 0x7f) {
          n = -1
          break
        }
        b[ptr + method.length + i] = c
      }
    }
    if (n < 0) n = b.write(text, ptr + method.length, 'utf8')
    const packed = e.polyplug_call!(ptr, method.length, ptr + method.length, n)
    e.polyplug_free!(ptr, room)
    const rp = Number(packed >> 32n)
    const rl = Number(packed & 0xffffffffn)
    b = bytes(rp + rl)
    const scalar = scalarAt(b, rp, rl)
    let value: unknown
    if (scalar !== NOT_SCALAR) value = scalar
    else {
      let out: string | undefined
      if (rl <= LOOP_MAX) {
        out = ''
        for (let i = rp; i < rp + rl; i++) {
          if (b[i]! > 0x7f) {
            out = undefined
            break
          }
          out += String.fromCharCode(b[i]!)
        }
      }
      value = JSON.parse(out ?? b.toString('utf8', rp, rp + rl))
    }
    e.polyplug_free!(rp, rl)
    return value
  }
}
