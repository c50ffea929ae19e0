/**
 * The `native` kind: a shared library speaking the polyplug C ABI (docs/native-abi.md), loaded
 * through koffi and presented as an ordinary PluginDefinition — so it runs inline and in the
 * worker and process carriers without any of them knowing it is native.
 *
 * Inline (and in a process carrier), every plugin function runs on the libuv thread pool (koffi
 * `.async`), never on the JS thread: a long native call cannot stall the event loop, and
 * host->call can block its own thread while this thread answers. Each concurrent call holds one
 * pool thread (UV_THREADPOOL_SIZE, default 4). In a worker, with the carrier's sync bridge, the
 * methods whose calls have proved short run synchronously on the worker's thread instead
 * (native-sync.ts).
 */
import koffi from './koffi.js'
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { NO_STREAMS, type MethodContext, type PluginDefinition } from '../sdk/define.js'
import type { RequestId } from '../rpc/wire.js'
import { openNativeLibrary, type NativeLibrary } from './native-abi.js'
import { encodeJson, NativeHostTable, readJson } from './native-host.js'
import { SyncCalls, syncMode, type NativeBridge } from './native-sync.js'
import { watchAbort, type AbortWatcher } from '../sdk/abort-watch.js'
import { answerLater, type LaterAnswer } from '../sdk/answer-later.js'
import { SlotList } from '../sdk/slot-list.js'

/** Runs a koffi function on the thread pool. */
function callAsync<T>(fn: koffi.KoffiFunction, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result)))
  })
}

/** How long a call runs before the signal of a context without a watch (see CancelFlags) is looked at. */
const WATCH_AFTER_MS = 5

/**
 * One call on the pool: its cancel flag and how its cancellation reaches it, the slots koffi writes
 * the answer to, and where the answer goes. koffi's callback keeps this record alone alive while
 * the call waits (with 256 calls queued on the pool, every scavenge copies what each one keeps).
 */
class Running implements AbortWatcher {
  signal: AbortSignal | undefined = undefined
  /** The listener on `signal`, while there is one. */
  raise: (() => void) | undefined = undefined
  /** The flag was set: it is cleared before it is reused (a flag in the free list reads 0). */
  raised = false
  /** The call returned: its flag may already serve another call, so a late abort must not set it. */
  returned = false
  /** Its place among the running calls (CancelFlags). */
  slot = -1
  /** Where the plugin's answer and its length are written. */
  readonly out: unknown[] = [null]
  readonly outLen: number[] = [0]

  constructor(
    readonly flag: unknown,
    readonly context: { readonly signal: AbortSignal },
    readonly method: string,
    readonly answer: LaterAnswer,
    /** Told once the call left the pool (or was refused before it). */
    readonly done: () => void,
  ) {}

  aborted(): void {
    if (this.returned) return
    this.raised = true
    koffi.encode(this.flag, 'int32_t', 1)
  }

  /** Listens to the context's signal (a context that could not be watched, CancelFlags#sweep). */
  listen(): void {
    const signal = (this.signal = this.context.signal)
    if (signal.aborted) return this.aborted()
    this.raise = () => this.aborted()
    signal.addEventListener('abort', this.raise, { once: true })
  }

  finish(): void {
    this.returned = true
    if (this.raise) this.signal?.removeEventListener('abort', this.raise)
  }
}

/**
 * Cancel flags live in native memory (the plugin polls them from its own thread) and are reused.
 * A context that can tell of its abort itself (the direct invoker's, src/sdk/abort-watch.ts) is
 * asked to; that costs a field, where an AbortSignal and its listener cost more than the rest of a
 * short call. Another context's signal is only looked at once the call has run for a few
 * milliseconds: creating the signal is the largest cost of a short call in Node, and a short call
 * needs none. Nothing is lost by looking late — a signal read after the abort reads as aborted.
 */
class CancelFlags {
  #free: unknown[] = []
  /** Every running call (raised at shutdown). */
  #running = new SlotList<Running>()
  /** Running calls whose context could not be watched and whose signal was not looked at yet. */
  #unwatched = new Set<Running>()
  #timer: ReturnType<typeof setInterval> | undefined

  start(context: Running['context'], method: string, answer: LaterAnswer, done: () => void): Running {
    const flag = this.#free.pop() ?? CancelFlags.#cleared(koffi.alloc('int32_t', 1))
    const running = new Running(flag, context, method, answer, done)
    this.#running.add(running)
    if (!watchAbort(context, running)) {
      this.#unwatched.add(running)
      this.#timer ??= setInterval(() => this.#sweep(), WATCH_AFTER_MS).unref()
    }
    return running
  }

  finish(running: Running): void {
    running.finish()
    this.#running.delete(running)
    if (this.#unwatched.size > 0) this.#unwatched.delete(running) // a watched call was never in it
    this.#free.push(running.raised ? CancelFlags.#cleared(running.flag) : running.flag)
  }

  /** Asks every running call to stop (shutdown). */
  raiseAll(): void {
    for (const running of this.#running.snapshot()) running.aborted()
  }

  static #cleared(flag: unknown): unknown {
    koffi.encode(flag, 'int32_t', 0)
    return flag
  }

  #sweep(): void {
    if (this.#unwatched.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    for (const running of this.#unwatched) running.listen()
    this.#unwatched.clear()
  }
}

/** Turns the plugin's error buffer into a typed error; a plugin that wrote nothing gets INTERNAL_ERROR. */
function pluginError(body: unknown, method: string, plugin: string): PolyplugError {
  const { code, message, data } = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown; data?: unknown }
  return new PolyplugError(typeof code === 'string' ? code : RpcErrorCodes.INTERNAL_ERROR, typeof message === 'string' ? message : `${method} failed`, {
    plugin,
    method,
    data,
  })
}

/** The plugin's answer: its JSON value, or its error buffer as a typed error; the buffer is released. */
function answer(lib: NativeLibrary, status: number, out: unknown[], outLen: number[], plugin: string, method: string): unknown {
  const len = Number(outLen[0])
  let body: unknown
  try {
    body = readJson(out[0], len)
  } finally {
    if (out[0]) lib.release(out[0], len)
  }
  if (status !== 0) throw pluginError(body, method, plugin)
  return body === undefined ? null : body
}

/** A native plugin's calls on the pool: its library, its cancel flags, and how an answer is read. */
class PoolCalls {
  constructor(
    readonly lib: NativeLibrary,
    readonly plugin: string,
    readonly flags: CancelFlags,
  ) {}

  /**
   * Calls one plugin method on the pool: JSON array in, JSON value (or a typed error) out. The
   * answer goes where `answer` says — the caller's own promise when the context hands it out
   * (src/sdk/answer-later.ts), so that a call waiting on the pool keeps no promise of its own.
   */
  start(instance: unknown, method: string, args: unknown[], context: MethodContext, answer: LaterAnswer, done: () => void): void {
    let running: Running | undefined
    try {
      const input = encodeJson(args)
      running = this.flags.start(context, method, answer, done)
      const call = running
      this.lib.call.async(instance, method, input, input.byteLength, call.out, call.outLen, call.flag, (error: unknown, status: number) => this.#ended(call, error, status))
    } catch (error) {
      // Refused before it reached the pool (its arguments could not be encoded or passed).
      if (running) this.flags.finish(running)
      done()
      answer.reject(error)
    }
  }

  #ended(call: Running, error: unknown, status: number): void {
    try {
      if (error) call.answer.reject(error)
      else call.answer.resolve(answer(this.lib, status, call.out, call.outLen, this.plugin, call.method))
    } catch (thrown) {
      call.answer.reject(thrown)
    } finally {
      this.flags.finish(call)
      call.done()
    }
  }
}

/** A call on the pool; its answer is the caller's own promise where the context hands it out, else a promise returned here. */
function invoke(pool: PoolCalls, instance: unknown, method: string, args: unknown[], context: MethodContext, done: () => void): Promise<unknown> | undefined {
  const later = answerLater(context)
  if (later !== undefined) return void pool.start(instance, method, args, context, later, done)
  return new Promise((resolve, reject) => pool.start(instance, method, args, context, { resolve, reject }, done))
}

/** Calls one plugin method on this (a worker's) thread; its cancel flag is in the shared slots. */
function invokeHere(lib: NativeLibrary, instance: unknown, sync: SyncCalls, id: RequestId, plugin: string, method: string, args: unknown[], context: MethodContext, done: () => void): unknown {
  const started = performance.now()
  let depth: number | undefined
  try {
    depth = sync.enter(id, context, method)
    const input = encodeJson(args)
    const out: unknown[] = [null]
    const outLen: number[] = [0]
    const status = lib.call(instance, method, input, input.byteLength, out, outLen, sync.flag(depth)) as number
    return answer(lib, status, out, outLen, plugin, method)
  } finally {
    if (depth !== undefined) sync.leave(depth, method, performance.now() - started)
    done()
  }
}

/** Loads a native plugin library; throws PLUGIN_UNAVAILABLE or ABI_MISMATCH before running any of its code. */
export async function loadNativePlugin(entryPath: string, id: string, bridge?: NativeBridge, workerCalls?: string): Promise<PluginDefinition> {
  const lib = openNativeLibrary(id, entryPath)
  const sync = bridge ? new SyncCalls(bridge, id, syncMode(workerCalls)) : undefined
  const host = new NativeHostTable(id, sync)
  const flags = new CancelFlags()
  const pool = new PoolCalls(lib, id, flags)
  let instance: unknown = null // the plugin's own state, from init
  let running = 0
  let onIdle: (() => void) | undefined
  const methods: Record<string, (...args: unknown[]) => unknown> = Object.create(null)
  const done = () => {
    if (--running === 0) onIdle?.()
  }
  for (const name of lib.methods) {
    // Not an async frame: the call's one promise is the caller's own (inline) or `invoke`'s.
    methods[name] = (...args: unknown[]) => {
      const context = args.pop() as MethodContext // invokeWithContext always appends it last
      running++
      if (!sync) return invoke(pool, instance, name, args, context, done)
      const request = sync.runHere(name)
      if (request !== undefined) return invokeHere(lib, instance, sync, request, id, name, args, context, done)
      const place = sync.line.join()
      const started = performance.now()
      return invoke(pool, instance, name, args, context, () => {
        sync.pooled(name, sync.line.left(place, started, performance.now()))
        done()
      })
    }
  }
  // Each method takes the context off the end of its arguments itself: it is variadic by design,
  // which `definePlugin`'s type refuses for authors, so the definition is built here directly.
  const definition: PluginDefinition = {
    methods,
    capabilities: NO_STREAMS,
    async activate(context) {
      host.attach(context)
      if (!lib.init) return
      const config = encodeJson(context.config)
      const slot: unknown[] = [null]
      const status = await callAsync<number>(lib.init, host.pointer, config, config.byteLength, slot)
      instance = slot[0]
      if (status !== 0) throw new PolyplugError(PluginErrorCodes.ACTIVATION_FAILED, `${lib.name}: init returned ${status}`, { plugin: id })
    },
    async deactivate() {
      // Ask running calls to stop, release threads blocked in host->call, then let the plugin clean up.
      flags.raiseAll()
      host.close()
      if (running > 0) await new Promise<void>((resolve) => {
        onIdle = resolve
        setTimeout(resolve, 2000).unref()
      })
      if (running > 0) return // a call ignores its cancel flag: leave the table alive rather than free it under it
      if (lib.shutdown) await callAsync(lib.shutdown, instance)
      host.dispose()
    },
  }
  return definition
}
