/**
 * The raw baseline for a wasm call: the ABI by hand, no polyplug. Instantiates the example module
 * with stub imports, copies ready-made argument bytes into guest memory, calls `polyplug_call` and
 * copies the result out. Used inline (rawWasm) and as a worker echo (when run as a worker script).
 * The floor of any JSON ABI over the same call is bench/wasm-json-floor.ts.
 */
import { readFileSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'

export interface RawWasm {
  /** method+args bytes in, result bytes out: one copy each way, as polyplug does. */
  call(input: Uint8Array, methodLen: number): Uint8Array
  /** The instance's exports and memory, for the JSON ABI floor (bench/wasm-json-floor.ts). */
  readonly exports: Record<string, (...args: number[]) => number & bigint>
  readonly memory: WebAssembly.Memory
  /** A bare export call, for scale. */
  bare(): number
}

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
  return {
    exports: e,
    memory,
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
    bare: () => e.polyplug_abi_version!(),
  }
}

if (parentPort && workerData?.wasm) {
  const raw = rawWasm(workerData.wasm as string)
  const port = parentPort
  port.on('message', (input: Uint8Array) => port.postMessage(raw.call(input, 4)))
}
