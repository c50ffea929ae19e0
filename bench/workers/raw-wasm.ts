/**
 * The raw baseline for a wasm call: the ABI by hand, no polyplug. Instantiates the example module
 * with stub imports, copies ready-made argument bytes into guest memory, calls `polyplug_call` and
 * copies the result out. Used inline (rawWasm) and as a worker echo (when run as a worker script).
 * `json` is the floor of any JSON ABI: the same call, plus only the JSON a method call cannot
 * avoid — the params stringified into guest memory, the result parsed out of it.
 */
import { readFileSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'

export interface RawWasm {
  /** method+args bytes in, result bytes out: one copy each way, as polyplug does. */
  call(input: Uint8Array, methodLen: number): Uint8Array
  /**
   * The raw call plus the JSON a JSON-RPC method call cannot avoid, and nothing else:
   * `JSON.stringify(params)` written into guest memory behind the method's name, `JSON.parse` of the
   * result text. Each step the cheapest way known here: UTF-8 writes and reads through one Buffer
   * over the memory (made again only after the memory grew); short ASCII text by a JS loop, which
   * beats the call into C++ below a few dozen characters.
   */
  json(method: Uint8Array, params: unknown[]): unknown
  /** A bare export call, for scale. */
  bare(): number
}

const LOOP_MAX = 48

/** Stub imports for the example module: WASI calls answer EBADF (8), so libc's start-up scan of preopens ends at once. */
export function stubImports(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: WebAssembly.Imports = {}
  for (const i of WebAssembly.Module.imports(module)) {
    imports[i.module] ??= {}
    ;(imports[i.module] as Record<string, unknown>)[i.name] = i.module === 'polyplug' ? () => 0 : () => 8
  }
  return imports
}

export function rawWasm(path: string): RawWasm {
  const module = new WebAssembly.Module(readFileSync(path))
  return rawWasmOf(new WebAssembly.Instance(module, stubImports(module)))
}

/** The ABI by hand over an instance made elsewhere (e.g. by `WebAssembly.instantiate`). */
export function rawWasmOf(instance: WebAssembly.Instance): RawWasm {
  const e = instance.exports as Record<string, (...args: number[]) => number & bigint>
  const memory = instance.exports.memory as WebAssembly.Memory
  e._initialize?.()
  let view = Buffer.from(memory.buffer)
  const bytes = (end: number) => (end <= view.length ? view : (view = Buffer.from(memory.buffer)))
  return {
    call(input, methodLen) {
      const ptr = e.polyplug_alloc!(input.length)
      new Uint8Array(memory.buffer, ptr, input.length).set(input)
      const packed = e.polyplug_call!(ptr, methodLen, ptr + methodLen, input.length - methodLen)
      e.polyplug_free!(ptr, input.length)
      const rp = Number(packed >> 32n)
      const rl = Number(packed & 0xffffffffn)
      const out = new Uint8Array(memory.buffer, rp, rl).slice()
      e.polyplug_free!(rp, rl)
      return out
    },
    json(method, params) {
      const text = JSON.stringify(params)
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
      const value: unknown = JSON.parse(out ?? b.toString('utf8', rp, rp + rl))
      e.polyplug_free!(rp, rl)
      return value
    },
    bare: () => e.polyplug_abi_version!(),
  }
}

if (parentPort && workerData?.wasm) {
  const raw = rawWasm(workerData.wasm as string)
  const port = parentPort
  port.on('message', (input: Uint8Array) => port.postMessage(raw.call(input, 4)))
}
