/**
 * Extism compatibility (`"wasm": { "abi": "extism" }`): runs a module built by an Extism PDK under
 * polyplug's manifest, limits, permissions and supervision, following the contract of Extism's
 * runtime (its kernel and its SDKs; docs/extism.md says what is and is not supported, and why).
 *
 * - Memory: the module's own memory gets `limits.memoryMb` as its maximum (PDKs declare none), and
 *   the kernel memory (src/kinds/extism-kernel.ts) shares that budget.
 * - Start-up: WASI from the manifest's grants when the module imports it; then, as Extism does,
 *   `hs_init` (after `_initialize`) for Haskell, else `__wasm_call_ctors` or `_initialize`.
 * - Methods: exports Extism can call — `() -> i32` or `() -> ()` — except initialisers and
 *   asyncify's helpers. `_start` is callable; the instance is re-created after it, as in Extism.
 * - `extism:host/user` imports are the application's host API (`host/<name>`), permission-checked
 *   like any plugin's calls (worker placement; inline guests cannot wait for the host).
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { NO_STREAMS, type LogLevel, type MethodContext, type PluginContext, type PluginDefinition } from '../sdk/define.js'
import { checkHostFunction, EXTISM_USER, hostFunctionImports } from './extism-host-functions.js'
import { ExtismKernel } from './extism-kernel.js'
import { httpAsk, httpFetch } from './extism-http.js'
import { DEFAULT_WASM_MEMORY_MB, declaredMemory, memoryForModule, withMemoryMaximum } from './wasm-memory.js'
import { functionSignatures, type FunctionSignatures, type Signature } from './wasm-signatures.js'
import { createWasi, prepareWasi, WASI_MODULE, type WasiSetup } from './wasm-wasi.js'
import type { WasmBridge } from './wasm.js'

export const EXTISM_ENV = 'extism:host/env'
const PAGE = 64 * 1024
const INITIALISERS = new Set(['_initialize', '__wasm_call_ctors', 'hs_init', 'hs_exit'])
/** Extism's log levels as `get_log_level` reports them; "off" is i32::MAX. */
const EXTISM_LEVELS: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 }
const DEFAULT_HTTP_TIMEOUT_MS = 30_000
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const NEVER = new AbortController().signal

export interface ExtismLoadRequest {
  id: string
  entryPath: string
  manifest: Manifest
  bridge?: WasmBridge | undefined
}

/** Thrown through the guest's frames by WASI `proc_exit`. */
class GuestExit extends Error {
  constructor(readonly exitCode: number) {
    super(`guest exited with code ${exitCode}`)
  }
}

const isCallable = ({ params, results }: Signature) => params.length === 0 && (results.length === 0 || (results.length === 1 && results[0] === 'i32'))

/** The exports Extism would call: `() -> i32` or `() -> ()`, minus initialisers and asyncify's helpers. */
export function extismMethods(signatures: FunctionSignatures): string[] {
  return signatures.exports.filter((e) => isCallable(e) && !INITIALISERS.has(e.name) && !e.name.startsWith('asyncify_')).map((e) => e.name)
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

/** One live instance: the guest, its kernel memory, its WASI. Replaced wholesale after a trap or exit. */
class ExtismInstance {
  readonly kernel: ExtismKernel
  readonly exports: WebAssembly.Exports
  readonly memory: WebAssembly.Memory | undefined
  #wasi: WasiSetup | undefined

  constructor(readonly plugin: ExtismPlugin) {
    const { id, manifest, entryPath } = plugin.request
    const limitBytes = plugin.limitMb * 1024 * 1024
    let memory: WebAssembly.Memory | undefined = plugin.importedMemory()
    this.kernel = new ExtismKernel(id, limitBytes, () => memory?.buffer.byteLength ?? 0)
    this.#wasi = plugin.wantsWasi
      ? createWasi(id, manifest, dirname(entryPath), {
          memory: () => memory!,
          line: (stream, text) => plugin.log(stream === 1 ? 'info' : 'warn', text),
          exit: (code) => {
            throw new GuestExit(code)
          },
        })
      : undefined
    const imports: WebAssembly.Imports = { [EXTISM_ENV]: plugin.envImports(this), [EXTISM_USER]: plugin.userImports(this) }
    if (this.#wasi) imports[WASI_MODULE] = this.#wasi.imports as WebAssembly.ModuleImports
    const wanted = WebAssembly.Module.imports(plugin.module).find((i) => i.kind === 'memory')
    if (wanted && memory) imports[wanted.module] = { ...imports[wanted.module], [wanted.name]: memory }
    let instance: WebAssembly.Instance
    try {
      instance = new WebAssembly.Instance(plugin.module, imports)
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot instantiate the Extism module: ${(cause as Error).message}`, { plugin: id, cause })
    }
    this.exports = instance.exports
    memory ??= instance.exports.memory instanceof WebAssembly.Memory ? instance.exports.memory : undefined
    this.memory = memory
    if (this.#wasi) {
      if (!memory) throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, 'a WASI module must export its memory', { plugin: id })
      this.#wasi.wasi.initialize({ exports: { memory } }) // binds WASI to the memory; initialisers run below
    }
    this.#initialize()
  }

  /** Extism's guest-runtime detection: Haskell's `hs_init` (after `_initialize`), else `__wasm_call_ctors` or `_initialize`. */
  #initialize(): void {
    const fn = (name: string) => (typeof this.exports[name] === 'function' ? (this.exports[name] as (...args: number[]) => unknown) : undefined)
    try {
      const hsInit = fn('hs_init')
      if (hsInit) {
        fn('_initialize')?.()
        hsInit(0, 0)
      } else (fn('__wasm_call_ctors') ?? fn('_initialize'))?.()
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `the module's initialiser failed: ${(cause as Error).message}`, { plugin: this.plugin.request.id, cause })
    }
  }
}

class ExtismPlugin {
  #instance!: ExtismInstance
  #context: PluginContext | undefined
  #call: MethodContext | undefined
  #httpStatus = 0
  readonly wantsWasi: boolean
  readonly limitMb: number
  readonly hostFunctions: Array<Signature & { name: string }>

  constructor(
    readonly request: ExtismLoadRequest,
    readonly module: WebAssembly.Module,
    readonly bytes: Uint8Array,
    signatures: FunctionSignatures,
  ) {
    this.limitMb = request.manifest.limits?.memoryMb ?? DEFAULT_WASM_MEMORY_MB
    this.wantsWasi = signatures.imports.some((i) => i.module === WASI_MODULE)
    this.hostFunctions = signatures.imports.filter((i) => i.module === EXTISM_USER)
    this.#instance = new ExtismInstance(this)
  }

  set context(context: PluginContext) {
    this.#context = context
  }

  importedMemory(): WebAssembly.Memory | undefined {
    return memoryForModule(this.bytes, this.limitMb, this.request.id)
  }

  log(level: LogLevel, text: string): void {
    this.#context?.log[level](text)
  }

  #logLevel(): LogLevel {
    return this.#context?.logLevel ?? 'info'
  }

  call(name: string, input: Uint8Array, context: MethodContext | undefined): Uint8Array {
    const { id } = this.request
    const instance = this.#instance
    const outer = this.#call
    this.#call = context
    let rc: unknown
    try {
      instance.kernel.begin(input)
      rc = (instance.exports[name] as () => unknown)()
    } catch (thrown) {
      return this.#failed(thrown, name, instance)
    } finally {
      this.#call = outer
    }
    const error = instance.kernel.error()
    const output = instance.kernel.output()
    if (name === '_start') this.#instance = new ExtismInstance(this) // a command has run to its end, as Extism resets
    if (error !== undefined) throw new PolyplugError('EXTISM_ERROR', error, { plugin: id, method: name, data: { status: rc ?? 0 } })
    if (typeof rc === 'number' && rc !== 0) throw new PolyplugError('EXTISM_ERROR', `Returned non-zero exit code: ${rc}`, { plugin: id, method: name, data: { status: rc } })
    return output
  }

  /** A trap or exit: report it and start from a fresh instance; errors raised by imports pass through. */
  #failed(thrown: unknown, method: string, instance: ExtismInstance): Uint8Array {
    const { id } = this.request
    if (thrown instanceof GuestExit) {
      this.#instance = new ExtismInstance(this)
      if (thrown.exitCode === 0) return instance.kernel.output() // Extism: exit code 0 is success
      throw new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `the guest exited with code ${thrown.exitCode}; its instance was re-created`, { plugin: id, method, data: { exitCode: thrown.exitCode } })
    }
    if (thrown instanceof PolyplugError) throw thrown.withContext(id, method)
    const trap = thrown instanceof WebAssembly.RuntimeError || thrown instanceof RangeError // RangeError: stack overflow
    if (!trap) throw toPolyplugError(thrown).withContext(id, method)
    this.#instance = new ExtismInstance(this)
    throw new PolyplugError(ErrorCodes.PLUGIN_TRAPPED, `${method} trapped: ${(thrown as Error).message}; the instance was re-created`, { plugin: id, method, cause: thrown })
  }

  /** `extism:host/env`: the kernel, config, logging and HTTP. */
  envImports(instance: ExtismInstance): WebAssembly.ModuleImports {
    const k = instance.kernel
    const { id, manifest } = this.request
    const text = (address: bigint) => k.text(address) ?? ''
    const log = (level: LogLevel) => (address: bigint) => {
      if (EXTISM_LEVELS[level] >= EXTISM_LEVELS[this.#logLevel()]) this.log(level, text(address))
    }
    return {
      alloc: (n: bigint) => k.alloc(n),
      free: (address: bigint) => k.free(address),
      length: (address: bigint) => k.length(address),
      length_unsafe: (address: bigint) => k.length(address),
      load_u8: (address: bigint) => k.loadU8(address),
      load_u64: (address: bigint) => k.loadU64(address),
      store_u8: (address: bigint, value: number) => k.storeU8(address, value),
      store_u64: (address: bigint, value: bigint) => k.storeU64(address, value),
      input_offset: () => k.inputAddress(),
      input_length: () => k.inputLength(),
      input_load_u8: (offset: bigint) => k.inputLoadU8(offset),
      input_load_u64: (offset: bigint) => k.inputLoadU64(offset),
      output_set: (address: bigint, length: bigint) => k.setOutput(address, length),
      error_set: (address: bigint) => k.setError(address),
      error_get: () => k.errorAddress(),
      config_get: (address: bigint) => {
        const value = this.#context?.config[text(address)]
        if (value === undefined) return 0n
        return k.store(encoder.encode(typeof value === 'string' ? value : JSON.stringify(value)))
      },
      var_get: (address: bigint) => k.getVar(text(address)),
      var_set: (key: bigint, value: bigint) => k.setVar(text(key), value),
      http_request: (request: bigint, body: bigint) => {
        const timeoutMs = manifest.limits?.callTimeoutMs || DEFAULT_HTTP_TIMEOUT_MS
        const ask = httpAsk(id, manifest, text(request), body === 0n ? undefined : k.read(body), timeoutMs)
        this.#httpStatus = 0
        const answer = httpFetch(id, ask)
        this.#httpStatus = answer.status
        const address = k.store(answer.body)
        if (address === 0n && answer.body.length > 0) {
          throw new PolyplugError(ErrorCodes.PLUGIN_MEMORY_LIMIT, `the ${answer.body.length}-byte response from ${ask.url} does not fit the plugin's memory limit (limits.memoryMb)`, { plugin: id })
        }
        return address
      },
      http_status_code: () => this.#httpStatus,
      http_headers: () => 0n,
      log_trace: log('trace'),
      log_debug: log('debug'),
      log_info: log('info'),
      log_warn: log('warn'),
      log_error: log('error'),
      get_log_level: () => EXTISM_LEVELS[this.#logLevel()],
    }
  }

  /** `extism:host/user`: the application's host API (src/kinds/extism-host-functions.ts). */
  userImports(instance: ExtismInstance): WebAssembly.ModuleImports {
    return hostFunctionImports(this.request.id, this.hostFunctions, instance.kernel, this.request.bridge, () => this.#call?.signal ?? NEVER)
  }
}

function checkImports(id: string, signatures: FunctionSignatures): void {
  for (const i of signatures.imports) {
    if (i.module === EXTISM_USER) checkHostFunction(id, i)
    else if (i.module !== EXTISM_ENV && i.module !== WASI_MODULE) {
      throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `the module imports "${i.module}" "${i.name}"; an Extism plugin may import only ${EXTISM_ENV}, ${EXTISM_USER} and ${WASI_MODULE}`, { plugin: id })
    }
  }
}

export async function loadExtismPlugin(request: ExtismLoadRequest): Promise<PluginDefinition> {
  const { id, entryPath, manifest } = request
  const limitMb = manifest.limits?.memoryMb ?? DEFAULT_WASM_MEMORY_MB
  let bytes: Uint8Array
  let signatures: FunctionSignatures
  let module: WebAssembly.Module
  try {
    bytes = new Uint8Array(await readFile(entryPath))
    signatures = functionSignatures(bytes)
    const own = declaredMemory(bytes).own
    if (own && own.min * PAGE > limitMb * 1024 * 1024) {
      throw new PolyplugError(ErrorCodes.PLUGIN_MEMORY_LIMIT, `the module needs at least ${own.min / 16} MiB of memory; the plugin's limit is ${limitMb} MiB (limits.memoryMb)`, { plugin: id })
    }
    if (own) bytes = withMemoryMaximum(bytes, limitMb * 16)
    module = await WebAssembly.compile(bytes)
    if (signatures.imports.some((i) => i.module === WASI_MODULE)) await prepareWasi()
  } catch (cause) {
    if (cause instanceof PolyplugError) throw cause
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot load ${entryPath}: ${(cause as Error).message}`, { plugin: id, cause })
  }
  checkImports(id, signatures)
  const plugin = new ExtismPlugin(request, module, bytes, signatures)
  const output = manifest.wasm?.output ?? 'text'
  const methods: Record<string, (...args: unknown[]) => unknown> = Object.create(null) as Record<string, never>
  for (const name of extismMethods(signatures)) {
    methods[name] = (...args: unknown[]) => {
      const context = args.pop() as MethodContext | undefined
      return fromOutput(plugin.call(name, toInput(args), context), output)
    }
  }
  return {
    methods,
    capabilities: NO_STREAMS,
    activate(ctx) {
      plugin.context = ctx
    },
  }
}
