/**
 * The `wasm` kind: a WebAssembly module implementing the polyplug WASM ABI (docs/wasm-abi.md),
 * presented as a PluginDefinition whose methods call into the instance synchronously. Inline
 * placement calls it on the host thread; the worker carrier calls it in a worker and supplies a
 * WasmBridge, through which the guest's host calls and waits block the worker (Atomics.wait)
 * instead of the host.
 */
import { statSync, type BigIntStats } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Manifest } from '../manifest/schema.js'
import { parse, stringify } from '../rpc/codec.js'
import { PolyplugError, toPolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { NO_STREAMS, type MethodContext, type PluginContext, type PluginDefinition } from '../sdk/define.js'
import { GuestCalls, MethodName } from './wasm-call.js'
import { scalarsJson } from './wasm-json.js'
import { DEFAULT_WASM_MEMORY_MB, declaredMemory, memoryForDeclared, type DeclaredMemory } from './wasm-memory.js'
import { createWasi, prepareWasi, WASI_MODULE, type WasiSetup } from './wasm-wasi.js'

export const WASM_ABI_VERSION = 1
const IMPORT_MODULE = 'polyplug'

/** What a carrier lends a wasm plugin so its synchronous imports can wait without blocking the host. */
export interface WasmBridge {
  /** Calls a host API method and blocks until it answers. */
  callHost(method: string, params: unknown, signal: AbortSignal): { ok: true; value: unknown } | { ok: false; error: PolyplugError }
  /** Blocks up to `ms` (serving what arrives meanwhile); true when `signal` was aborted. */
  wait(ms: number, signal: AbortSignal): boolean
  /** The guest gave up (abort, proc_exit): end the carrier. */
  exit(code: number): never
}

export interface WasmLoadRequest {
  id: string
  entryPath: string
  manifest: Manifest
  bridge?: WasmBridge | undefined
}

interface Exports {
  memory?: WebAssembly.Memory
  polyplug_abi_version: () => number
  polyplug_alloc: (size: number) => number
  polyplug_free: (ptr: number, size: number) => void
  polyplug_describe: () => bigint
  polyplug_call: (methodPtr: number, methodLen: number, argsPtr: number, argsLen: number) => bigint
  _initialize?: () => void
}

/** Thrown through the guest's frames by `abort`/`proc_exit`; never seen by callers. */
class GuestExit extends Error {
  constructor(readonly exitCode: number) {
    super(`guest exited with code ${exitCode}`)
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
const NEVER = new AbortController().signal

// A `.wasm` file is read and compiled once per thread while plugins use it: further plugins of the
// same file (another manifest, a restart) take the compiled module instead of compiling the file
// again. The entry is keyed by the file's path and checked against its device, inode, size,
// modification and change times. Those times come from the kernel's coarse clock (a tick of 1-10 ms
// here, seconds on some file systems), so a file rewritten with bytes of the same size within one
// tick of its last write keeps all five: as git does for its index, an entry whose file changed
// less than RACY_MS before it was read is not trusted on its times alone, and the next plugin
// compares the file's bytes with the entry's (a read and a memcmp, where compiling costs
// milliseconds). The entry is held weakly, so a module no plugin uses any more can be collected.
// (Here rather than in a module of its own: a first wasm plugin pays Node's loader per module.)

/** A `.wasm` file's bytes and compiled module, shared by the plugins of that file. */
export interface CompiledWasm {
  readonly bytes: Uint8Array
  readonly module: WebAssembly.Module
  /** `WebAssembly.Module.imports(module)`, listed once. */
  readonly imports: readonly WebAssembly.ModuleImportDescriptor[]
  /** The module's memory declarations, read from `bytes` on first use (it throws for unreadable bytes). */
  declared(): DeclaredMemory
}

interface Entry extends CompiledWasm {
  readonly version: string
  /** The file's times were older than RACY_MS when it was read: a later write changes them. */
  readonly settled: boolean
}

/** How long after its last change a file's times may still be shared by a next write (FAT's 2 s granularity included). */
const RACY_MS = 3000

const cache = new Map<string, WeakRef<Entry>>()
const forget = new FinalizationRegistry<string>((path) => {
  if (cache.get(path)?.deref() === undefined) cache.delete(path)
})

/** What tells one content of a file from another without reading it, when its times are settled. */
function versionOf(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
}

/** Whether the file's last change lies RACY_MS or more before `now` (both times: ctime moves on a rename or chmod too). */
function settledAt(s: BigIntStats, now: number): boolean {
  const last = Number((s.mtimeNs > s.ctimeNs ? s.mtimeNs : s.ctimeNs) / 1_000_000n)
  return now - last >= RACY_MS
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)
}

/** The compiled module of the file at `path` (read and compiled now unless an unchanged one is held). Throws what reading or compiling throws. */
export async function compiledWasm(path: string): Promise<CompiledWasm> {
  // A synchronous stat, as native-abi.ts reads a library's header: one system call of 2-7 µs of
  // CPU, where the promise-based one (a round trip through libuv's thread pool) costs 16-28 µs.
  const now = Date.now()
  const stats = statSync(path, { bigint: true })
  const version = versionOf(stats)
  const held = cache.get(path)?.deref()
  if (held?.settled === true && held.version === version) return held
  // A change between the stat and the read leaves an entry whose version is already stale: the
  // next plugin reads the file again.
  const bytes = new Uint8Array(await readFile(path))
  const settled = settledAt(stats, now)
  let entry: Entry
  if (held !== undefined && sameBytes(held.bytes, bytes)) {
    entry = { ...held, version, settled }
  } else {
    const module = await WebAssembly.compile(bytes)
    let declared: DeclaredMemory | undefined
    entry = { version, settled, bytes, module, imports: WebAssembly.Module.imports(module), declared: () => (declared ??= declaredMemory(bytes)) }
  }
  cache.set(path, new WeakRef(entry))
  forget.register(entry, path)
  return entry
}

/** One live instance plus everything needed to replace it after a trap. */
class WasmPlugin {
  #exports!: Exports
  #memory!: WebAssembly.Memory
  #wasi: WasiSetup | undefined
  #error: PolyplugError | undefined
  /** The method call in progress; its `signal` is read only when an import needs it (creating it costs). */
  #call: MethodContext | undefined
  #context: PluginContext | undefined
  readonly #sleeper = new Int32Array(new SharedArrayBuffer(4))
  /** The input buffer, the result split and the memory views of the live instance (./wasm-call.ts). */
  #io!: GuestCalls

  constructor(
    readonly id: string,
    readonly compiled: CompiledWasm,
    readonly request: WasmLoadRequest,
  ) {
    this.#instantiate()
  }

  /** Bytes of linear memory the guest has now. */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength
  }

  set context(context: PluginContext) {
    this.#context = context
  }

  methods(): string[] {
    const packed = this.#exports.polyplug_describe()
    const names = parse(this.#read(packed)) as unknown
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, 'polyplug_describe must return a JSON array of method names', { plugin: this.id })
    }
    return names as string[]
  }

  /**
   * Runs one method: the JSON argument array goes straight into guest memory, the JSON result
   * comes back as a value (./wasm-call.ts). A method's name comes with its UTF-8 bytes, made once.
   */
  call(method: MethodName, params: unknown[], context: MethodContext | undefined): unknown {
    const args = scalarsJson(params) ?? stringify(params)
    // Held locally: a nested call that traps replaces the instance while this one finishes.
    const io = this.#io
    const outerCall = this.#call
    const outerError = this.#error
    this.#error = undefined
    // The call's signal can change while the guest runs only in a worker, whose waits serve
    // `$/cancel`; inline nothing else runs meanwhile, so the guest's imports see a signal that
    // is never aborted (NEVER) and the context is not kept.
    if (this.request.bridge) this.#call = context
    let len: number
    let error = undefined as PolyplugError | undefined
    try {
      len = io.call(method, args)
      error = this.#pendingError()
    } catch (thrown) {
      throw this.#failed(thrown, method.name)
    } finally {
      this.#call = outerCall
      this.#error = outerError
    }
    const ptr = io.resultPtr
    if (error) throw error.withContext(this.id, method.name)
    // An empty result (0 bytes; ptr 0 when nothing was allocated) means "no result": null (docs/wasm-abi.md).
    if (len === 0) {
      if (ptr !== 0) io.exports.polyplug_free(ptr, 0)
      return null
    }
    return io.read(ptr, len, method.name)
  }

  /** Set by the guest's `error` import during the call (a method, so TS does not narrow the field). */
  #pendingError(): PolyplugError | undefined {
    return this.#error
  }

  #read(packed: bigint): string {
    const ptr = Number(packed >> 32n)
    const len = Number(packed & 0xffffffffn)
    return decoder.decode(new Uint8Array(this.#memory.buffer, ptr, len))
  }

  /** A trap or exit inside the guest: report it and start from a fresh instance. */
  #failed(error: unknown, method: string): PolyplugError {
    if (error instanceof GuestExit) {
      if (this.request.bridge) this.request.bridge.exit(error.exitCode)
      this.#instantiate()
      return new PolyplugError(PluginErrorCodes.PLUGIN_CRASHED, `the guest exited with code ${error.exitCode}; its instance was re-created`, {
        plugin: this.id,
        method,
        data: { exitCode: error.exitCode },
      })
    }
    const trap = error instanceof WebAssembly.RuntimeError || error instanceof RangeError // RangeError: stack overflow
    if (!trap) return toPolyplugError(error).withContext(this.id, method)
    this.#instantiate()
    return new PolyplugError(PluginErrorCodes.PLUGIN_TRAPPED, `${method} trapped: ${(error as Error).message}; the instance was re-created`, {
      plugin: this.id,
      method,
      cause: error,
    })
  }

  #instantiate(): void {
    const { manifest, entryPath } = this.request
    const { module, imports } = this.compiled
    const imported = memoryForDeclared(this.compiled.declared, manifest.limits?.memoryMb ?? DEFAULT_WASM_MEMORY_MB, this.id)
    const wantsWasi = imports.some((i) => i.module === WASI_MODULE)
    this.#wasi = wantsWasi
      ? createWasi(this.id, manifest, dirname(entryPath), {
          memory: () => this.#memory,
          line: (stream, text) => this.#log(stream === 1 ? 'info' : 'warn', text),
          exit: (code) => {
            throw new GuestExit(code)
          },
        })
      : undefined
    const importObject: WebAssembly.Imports = { [IMPORT_MODULE]: this.#imports() }
    if (this.#wasi) importObject[WASI_MODULE] = this.#wasi.imports as WebAssembly.ModuleImports
    if (imported) {
      const memoryImport = imports.find((i) => i.kind === 'memory')!
      importObject[memoryImport.module] = { ...importObject[memoryImport.module], [memoryImport.name]: imported }
    }
    let instance: WebAssembly.Instance
    try {
      instance = new WebAssembly.Instance(module, importObject)
    } catch (cause) {
      throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `cannot instantiate: ${(cause as Error).message}`, { plugin: this.id, cause })
    }
    const exports = instance.exports as unknown as Exports
    for (const name of ['polyplug_abi_version', 'polyplug_alloc', 'polyplug_free', 'polyplug_describe', 'polyplug_call'] as const) {
      if (typeof exports[name] !== 'function') {
        throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `not a polyplug module: no export "${name}" (docs/wasm-abi.md)`, { plugin: this.id })
      }
    }
    const version = exports.polyplug_abi_version()
    if (version !== WASM_ABI_VERSION) {
      throw new PolyplugError(RpcErrorCodes.PROTOCOL_MISMATCH, `module speaks polyplug WASM ABI ${version}, host speaks ${WASM_ABI_VERSION}`, { plugin: this.id })
    }
    const memory = imported ?? exports.memory
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, 'the module neither exports nor imports a memory', { plugin: this.id })
    }
    this.#exports = exports
    this.#memory = memory
    this.#io = new GuestCalls(exports, memory, this.id)
    if (this.#wasi) this.#wasi.wasi.initialize(imported ? { exports: { ...instance.exports, memory } } : instance)
    else exports._initialize?.()
  }

  #signal(): AbortSignal {
    return this.#call?.signal ?? NEVER
  }

  #log(level: (typeof LOG_LEVELS)[number], text: string): void {
    this.#context?.log[level](text)
  }

  #text(ptr: number, len: number): string {
    return decoder.decode(new Uint8Array(this.#memory.buffer, ptr, len))
  }

  /** Copies JSON text into a fresh guest buffer and writes {ptr, len} at `out`. */
  #writeOut(out: number, json: string): void {
    const bytes = encoder.encode(json)
    const ptr = this.#exports.polyplug_alloc(bytes.length)
    if (ptr === 0) throw new PolyplugError(PluginErrorCodes.PLUGIN_MEMORY_LIMIT, 'no guest memory for a host answer', { plugin: this.id })
    new Uint8Array(this.#memory.buffer, ptr, bytes.length).set(bytes)
    const view = new DataView(this.#memory.buffer)
    view.setUint32(out, ptr, true)
    view.setUint32(out + 4, bytes.length, true)
  }

  #imports(): WebAssembly.ModuleImports {
    const bridge = this.request.bridge
    return {
      host_call: (mPtr: number, mLen: number, aPtr: number, aLen: number, out: number): number => {
        const method = this.#text(mPtr, mLen)
        let params: unknown
        try {
          params = parse(this.#text(aPtr, aLen))
        } catch {
          this.#writeOut(out, stringify({ code: RpcErrorCodes.INVALID_PARAMS, message: 'host_call arguments are not JSON' }))
          return 1
        }
        const answer = bridge
          ? bridge.callHost(method, params, this.#signal())
          : {
              ok: false as const,
              error: new PolyplugError(PluginErrorCodes.HOST_CALL_UNAVAILABLE, 'an inline wasm plugin cannot call the host synchronously; place it in a worker', { plugin: this.id }),
            }
        this.#writeOut(out, answer.ok ? stringify(answer.value ?? null) : stringify({ code: answer.error.code, message: answer.error.message }))
        return answer.ok ? 0 : 1
      },
      log: (level: number, ptr: number, len: number) => this.#log(LOG_LEVELS[level] ?? 'info', this.#text(ptr, len)),
      config: (kPtr: number, kLen: number, out: number): number => {
        const key = this.#text(kPtr, kLen)
        const config = this.#context?.config ?? {}
        const value = key === '' ? config : config[key]
        if (value === undefined) return 1
        this.#writeOut(out, stringify(value))
        return 0
      },
      sleep: (ms: number): number => {
        if (bridge) return bridge.wait(ms, this.#signal()) ? 1 : 0
        // Inline: nothing else can run on this thread meanwhile, so nothing can cancel it.
        Atomics.wait(this.#sleeper, 0, 0, ms)
        return this.#signal().aborted ? 1 : 0
      },
      cancelled: (): number => (bridge ? (bridge.wait(0, this.#signal()) ? 1 : 0) : this.#signal().aborted ? 1 : 0),
      error: (cPtr: number, cLen: number, mPtr: number, mLen: number) => {
        this.#error = new PolyplugError(this.#text(cPtr, cLen) || RpcErrorCodes.INTERNAL_ERROR, this.#text(mPtr, mLen), { plugin: this.id })
      },
      abort: (code: number): never => {
        throw new GuestExit(code)
      },
    }
  }
}

/** Compiles and instantiates the module, then exposes its methods (from `polyplug_describe`). */
export async function loadWasmPlugin(request: WasmLoadRequest): Promise<PluginDefinition> {
  const { id, entryPath } = request
  let compiled: CompiledWasm
  try {
    compiled = await compiledWasm(entryPath)
    if (compiled.imports.some((i) => i.module === WASI_MODULE)) await prepareWasi()
  } catch (cause) {
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `cannot load ${entryPath}: ${(cause as Error).message}`, { plugin: id, cause })
  }
  const plugin = new WasmPlugin(id, compiled, request)
  const methods: Record<string, (...params: unknown[]) => unknown> = Object.create(null) as Record<string, never>
  for (const name of plugin.methods()) {
    const method = new MethodName(name)
    methods[name] = (...params: unknown[]) => {
      const context = params.pop() as MethodContext | undefined
      return plugin.call(method, params, context)
    }
  }
  return {
    methods,
    capabilities: NO_STREAMS,
    activate(context) {
      plugin.context = context
    },
    usage: () => ({ linearMemoryBytes: plugin.memoryBytes }),
  }
}
