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

/** Runs a koffi function on the thread pool. */
function callAsync<T>(fn: koffi.KoffiFunction, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result)))
  })
}

/** How long a call runs before its cancellation is watched (see CancelFlags). */
const WATCH_AFTER_MS = 5

interface Running {
  readonly flag: unknown
  readonly context: { readonly signal: AbortSignal }
  signal?: AbortSignal
  raise?: () => void
  /** The flag was set: it is cleared before it is reused (a flag in the free list reads 0). */
  raised?: boolean
}

/**
 * Cancel flags live in native memory (the plugin polls them from its own thread) and are reused.
 * A call's AbortSignal is only looked at once the call has run for a few milliseconds: creating
 * the signal is the largest cost of a short call in Node, and a short call needs none. Nothing is
 * lost by looking late — a signal read after the abort reads as aborted.
 */
class CancelFlags {
  #free: unknown[] = []
  #running = new Set<Running>()
  #timer: ReturnType<typeof setInterval> | undefined

  start(context: Running['context']): Running {
    const flag = this.#free.pop() ?? CancelFlags.#cleared(koffi.alloc('int32_t', 1))
    const running: Running = { flag, context }
    this.#running.add(running)
    this.#timer ??= setInterval(() => this.#sweep(), WATCH_AFTER_MS).unref()
    return running
  }

  finish(running: Running): void {
    this.#running.delete(running)
    if (running.raise) running.signal?.removeEventListener('abort', running.raise)
    this.#free.push(running.raised ? CancelFlags.#cleared(running.flag) : running.flag)
  }

  /** Asks every running call to stop (shutdown). */
  raiseAll(): void {
    for (const running of this.#running) CancelFlags.#raise(running)
  }

  static #cleared(flag: unknown): unknown {
    koffi.encode(flag, 'int32_t', 0)
    return flag
  }

  static #raise(running: Running): void {
    running.raised = true
    koffi.encode(running.flag, 'int32_t', 1)
  }

  #sweep(): void {
    if (this.#running.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    for (const running of this.#running) {
      if (running.signal) continue
      const signal = (running.signal = running.context.signal)
      const raise = () => CancelFlags.#raise(running)
      if (signal.aborted) raise()
      else {
        running.raise = raise
        signal.addEventListener('abort', raise, { once: true })
      }
    }
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

/** Calls one plugin method on the pool: JSON array in, JSON value (or a typed error) out. */
async function invoke(lib: NativeLibrary, instance: unknown, flags: CancelFlags, plugin: string, method: string, args: unknown[], context: MethodContext, done: () => void): Promise<unknown> {
  let running: Running | undefined
  try {
    const input = encodeJson(args)
    const out: unknown[] = [null]
    const outLen: number[] = [0]
    running = flags.start(context)
    const status = await callAsync<number>(lib.call, instance, method, input, input.byteLength, out, outLen, running.flag)
    return answer(lib, status, out, outLen, plugin, method)
  } finally {
    if (running) flags.finish(running)
    done()
  }
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
  let instance: unknown = null // the plugin's own state, from init
  let running = 0
  let onIdle: (() => void) | undefined
  const methods: Record<string, (...args: unknown[]) => unknown> = Object.create(null)
  const done = () => {
    if (--running === 0) onIdle?.()
  }
  for (const name of lib.methods) {
    // Not an async frame of its own: the call's one async frame is `invoke`'s.
    methods[name] = (...args: unknown[]) => {
      const context = args.pop() as MethodContext // invokeWithContext always appends it last
      running++
      if (!sync) return invoke(lib, instance, flags, id, name, args, context, done)
      const request = sync.runHere(name)
      if (request !== undefined) return invokeHere(lib, instance, sync, request, id, name, args, context, done)
      const place = sync.line.join()
      const started = performance.now()
      return invoke(lib, instance, flags, id, name, args, context, () => {
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
