/**
 * The `native` kind: a shared library speaking the polyplug C ABI (docs/native-abi.md), loaded
 * through koffi and presented as an ordinary PluginDefinition — so it runs inline and in the
 * worker and process carriers without any of them knowing it is native.
 *
 * Every plugin function runs on the libuv thread pool (koffi `.async`), never on the JS thread:
 * a long native call cannot stall the event loop, and host->call can block its own thread while
 * this thread answers. Each concurrent call holds one pool thread (UV_THREADPOOL_SIZE, default 4).
 */
import koffi from 'koffi'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import { definePlugin, type MethodContext, type PluginDefinition } from '../sdk/define.js'
import { openNativeLibrary, type NativeLibrary } from './native-abi.js'
import { encodeJson, NativeHostTable, readJson } from './native-host.js'

/** Runs a koffi function on the thread pool. */
function callAsync<T>(fn: koffi.KoffiFunction, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result)))
  })
}

/** Cancel flags live in native memory (the plugin polls them from its own thread); reused across calls. */
class FlagPool {
  #free: unknown[] = []
  #busy = new Set<unknown>()
  take(): unknown {
    const flag = this.#free.pop() ?? koffi.alloc('int32_t', 1)
    koffi.encode(flag, 'int32_t', 0)
    this.#busy.add(flag)
    return flag
  }
  give(flag: unknown): void {
    this.#busy.delete(flag)
    this.#free.push(flag)
  }
  /** Asks every running call to stop (shutdown). */
  raiseAll(): void {
    for (const flag of this.#busy) koffi.encode(flag, 'int32_t', 1)
  }
}

/** Turns the plugin's error buffer into a typed error; a plugin that wrote nothing gets INTERNAL_ERROR. */
function pluginError(body: unknown, method: string, plugin: string): PolyplugError {
  const { code, message, data } = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown; data?: unknown }
  return new PolyplugError(typeof code === 'string' ? code : ErrorCodes.INTERNAL_ERROR, typeof message === 'string' ? message : `${method} failed`, {
    plugin,
    method,
    data,
  })
}

/** Calls one plugin method: JSON array in, JSON value (or a typed error) out. */
async function invoke(lib: NativeLibrary, instance: unknown, flags: FlagPool, plugin: string, method: string, args: unknown[], signal: AbortSignal | undefined): Promise<unknown> {
  const input = encodeJson(args)
  const out: unknown[] = [null]
  const outLen: number[] = [0]
  const flag = flags.take()
  const onAbort = () => koffi.encode(flag, 'int32_t', 1)
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const status = await callAsync<number>(lib.call, instance, method, input, input.byteLength, out, outLen, flag)
    const len = Number(outLen[0])
    let body: unknown
    try {
      body = readJson(out[0], len)
    } finally {
      if (out[0]) lib.release(out[0], len)
    }
    if (status !== 0) throw pluginError(body, method, plugin)
    return body === undefined ? null : body
  } finally {
    signal?.removeEventListener('abort', onAbort)
    flags.give(flag)
  }
}

/** Loads a native plugin library; throws PLUGIN_UNAVAILABLE or ABI_MISMATCH before running any of its code. */
export async function loadNativePlugin(entryPath: string, id: string): Promise<PluginDefinition> {
  const lib = openNativeLibrary(id, entryPath)
  const host = new NativeHostTable(id)
  const flags = new FlagPool()
  let instance: unknown = null // the plugin's own state, from init
  let running = 0
  let onIdle: (() => void) | undefined
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = Object.create(null)
  for (const name of lib.methods) {
    methods[name] = async (...args: unknown[]) => {
      const context = args.pop() as MethodContext // invokeWithContext always appends it last
      running++
      try {
        return await invoke(lib, instance, flags, id, name, args, context.signal)
      } finally {
        if (--running === 0) onIdle?.()
      }
    }
  }
  return definePlugin({
    methods,
    async activate(context) {
      host.attach(context)
      if (!lib.init) return
      const config = encodeJson(context.config)
      const slot: unknown[] = [null]
      const status = await callAsync<number>(lib.init, host.pointer, config, config.byteLength, slot)
      instance = slot[0]
      if (status !== 0) throw new PolyplugError(ErrorCodes.ACTIVATION_FAILED, `${lib.name}: init returned ${status}`, { plugin: id })
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
  })
}
