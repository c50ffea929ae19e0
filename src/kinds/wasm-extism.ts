/**
 * Extism compatibility (`"wasm": { "abi": "extism" }`): runs a module built with an Extism PDK
 * under polyplug's manifest, limits and supervision. The Extism "kernel" memory (the blocks
 * `alloc`, `input_*`, `output_set`, `var_*` and `config_get` work on) lives on the host as one
 * growable byte array with offsets starting at 1; every exported function of the module is a
 * method that takes bytes in and gives bytes out. Implemented: input/output, alloc/free/length,
 * load/store, config, vars, logging, error. Not implemented: http_request (fails the call).
 */
import { readFile } from 'node:fs/promises'
import type { Manifest } from '../manifest/schema.js'
import { ErrorCodes, PolyplugError, toPolyplugError } from '../rpc/errors.js'
import type { PluginContext, PluginDefinition } from '../sdk/define.js'
import { DEFAULT_WASM_MEMORY_MB, memoryForModule } from './wasm-memory.js'

const EXTISM_MODULE = 'extism:host/env'
const NOT_METHODS = new Set(['_start', '_initialize', 'memory', '__data_end', '__heap_base'])
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Host-side Extism memory: a bump allocator over one growable buffer; offset 0 means "none". */
class KernelMemory {
  #bytes = new Uint8Array(64 * 1024)
  #top = 1
  readonly #lengths = new Map<number, number>()

  alloc(n: number): number {
    const offset = this.#top
    if (offset + n > this.#bytes.length) {
      const bigger = new Uint8Array(Math.max(this.#bytes.length * 2, offset + n))
      bigger.set(this.#bytes)
      this.#bytes = bigger
    }
    this.#top += Math.max(n, 1)
    this.#lengths.set(offset, n)
    return offset
  }
  free(offset: number): void {
    this.#lengths.delete(offset)
  }
  length(offset: number): number {
    return this.#lengths.get(offset) ?? 0
  }
  put(data: Uint8Array): number {
    const offset = this.alloc(data.length)
    this.#bytes.set(data, offset)
    return offset
  }
  get(offset: number): Uint8Array {
    return this.#bytes.slice(offset, offset + this.length(offset))
  }
  load(offset: number): number {
    return this.#bytes[offset] ?? 0
  }
  store(offset: number, value: number): void {
    this.#bytes[offset] = value
  }
  view(): DataView {
    return new DataView(this.#bytes.buffer)
  }
  /** Everything is released between calls: Extism plugins keep no pointers across calls. */
  reset(): void {
    this.#top = 1
    this.#lengths.clear()
  }
}

function toInput(args: unknown[]): Uint8Array {
  const value = args[0]
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return encoder.encode(value)
  return encoder.encode(value === undefined ? '' : JSON.stringify(value))
}

function fromOutput(bytes: Uint8Array, output: 'text' | 'json' | 'bytes'): unknown {
  if (output === 'bytes') return bytes
  const text = decoder.decode(bytes)
  return output === 'json' ? (text === '' ? null : JSON.parse(text)) : text
}

export async function loadExtismPlugin(request: { id: string; entryPath: string; manifest: Manifest }): Promise<PluginDefinition> {
  const { id, entryPath, manifest } = request
  let bytes: Uint8Array
  let module: WebAssembly.Module
  try {
    bytes = new Uint8Array(await readFile(entryPath))
    module = await WebAssembly.compile(bytes)
  } catch (cause) {
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot load ${entryPath}: ${(cause as Error).message}`, { plugin: id, cause })
  }
  const output = manifest.wasm?.output ?? 'text'
  const kernel = new KernelMemory()
  const vars = new Map<string, Uint8Array>()
  let context: PluginContext | undefined
  let input: Uint8Array = new Uint8Array(0)
  let result: Uint8Array | undefined
  let error: string | undefined
  const big = (n: number) => BigInt(n)
  const num = (n: bigint) => Number(n)
  const text = (offset: bigint) => decoder.decode(kernel.get(num(offset)))
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (offset: bigint) => context?.log[level](text(offset))

  const host: Record<string, (...args: never[]) => unknown> = {
    input_length: () => big(input.length),
    input_offset: () => big(kernel.put(input)),
    input_load_u8: (offset: bigint) => input[num(offset)] ?? 0,
    input_load_u64: (offset: bigint) => {
      const padded = new Uint8Array(8)
      padded.set(input.subarray(num(offset), num(offset) + 8))
      return new DataView(padded.buffer).getBigUint64(0, true)
    },
    alloc: (n: bigint) => big(kernel.alloc(num(n))),
    free: (offset: bigint) => kernel.free(num(offset)),
    length: (offset: bigint) => big(kernel.length(num(offset))),
    length_unsafe: (offset: bigint) => big(kernel.length(num(offset))),
    load_u8: (offset: bigint) => kernel.load(num(offset)),
    store_u8: (offset: bigint, value: number) => kernel.store(num(offset), value),
    load_u64: (offset: bigint) => kernel.view().getBigUint64(num(offset), true),
    store_u64: (offset: bigint, value: bigint) => kernel.view().setBigUint64(num(offset), value, true),
    output_set: (offset: bigint, n: bigint) => {
      result = kernel.get(num(offset)).subarray(0, num(n))
    },
    error_set: (offset: bigint) => {
      error = text(offset)
    },
    config_get: (offset: bigint) => {
      const value = context?.config[text(offset)]
      if (value === undefined) return 0n
      return big(kernel.put(encoder.encode(typeof value === 'string' ? value : JSON.stringify(value))))
    },
    var_get: (offset: bigint) => {
      const value = vars.get(text(offset))
      return value ? big(kernel.put(value)) : 0n
    },
    var_set: (key: bigint, value: bigint) => {
      if (value === 0n) vars.delete(text(key))
      else vars.set(text(key), kernel.get(num(value)))
    },
    http_request: () => {
      throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, 'http_request is not available to Extism plugins under polyplug', { plugin: id })
    },
    http_status_code: () => 0,
    http_headers: () => 0n,
    log_trace: log('debug'),
    log_debug: log('debug'),
    log_info: log('info'),
    log_warn: log('warn'),
    log_error: log('error'),
    get_log_level: () => 1,
  }

  const imported = memoryForModule(bytes, manifest.limits?.memoryMb ?? DEFAULT_WASM_MEMORY_MB, id)
  const instantiate = (): WebAssembly.Instance => {
    const imports: WebAssembly.Imports = { [EXTISM_MODULE]: host }
    if (imported) {
      const { module: m, name } = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory')!
      imports[m] = { ...imports[m], [name]: imported }
    }
    try {
      return new WebAssembly.Instance(module, imports)
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot instantiate the Extism module: ${(cause as Error).message}`, { plugin: id, cause })
    }
  }
  let instance = instantiate()
  const methods: Record<string, (...args: unknown[]) => unknown> = Object.create(null) as Record<string, never>
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    if (kind !== 'function' || NOT_METHODS.has(name)) continue
    methods[name] = (...args: unknown[]) => {
      args.pop() // the MethodContext
      input = toInput(args)
      result = undefined
      error = undefined
      kernel.reset()
      let status: number
      try {
        status = (instance.exports[name] as () => number)()
      } catch (thrown) {
        if (thrown instanceof PolyplugError) throw thrown.withContext(id, name)
        if (!(thrown instanceof WebAssembly.RuntimeError || thrown instanceof RangeError)) throw toPolyplugError(thrown).withContext(id, name)
        instance = instantiate()
        throw new PolyplugError(ErrorCodes.PLUGIN_TRAPPED, `${name} trapped: ${(thrown as Error).message}; the instance was re-created`, { plugin: id, method: name, cause: thrown })
      }
      if (error !== undefined || status !== 0) {
        throw new PolyplugError('EXTISM_ERROR', error ?? `${name} returned ${status}`, { plugin: id, method: name, data: { status } })
      }
      return fromOutput(result ?? new Uint8Array(0), output)
    }
  }
  return {
    methods,
    activate(ctx) {
      context = ctx
    },
  }
}
