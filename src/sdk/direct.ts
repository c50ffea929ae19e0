/**
 * The `direct` fast path for inline plugins: the host calls a plugin's method as a function, with
 * the same contract as a call over a channel — typed errors naming the plugin and method, a
 * deadline (RPC_TIMEOUT), cancellation reaching `ctx.signal`, progress — but without encoding,
 * message shapes or channel hops. Lifecycle and the plugin's own host calls still use the Peer.
 * A method that returns synchronously costs one context object: deadlines and abort listeners
 * are only set up for calls that are still running when the method returns.
 */
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { invokeWithContext } from '../rpc/invoke.js'
import { methodEntries } from '../rpc/peer.js'
import { isStreamSource } from '../rpc/stream.js'
import { guardLocalStream } from '../rpc/stream-local.js'
import type { CallOptions } from '../rpc/types.js'
import { methodNotFoundMessage } from '../rpc/suggest.js'
import type { MethodContext, PluginContext } from './define.js'
import { contextFor } from './trace.js'

/**
 * Calls one method of an inline plugin; `timeout` is the effective deadline in ms (0 for none),
 * passed apart from `options` so that a call does not copy its options to add it.
 */
export type DirectInvoke = (method: string, args: unknown[], options: CallOptions, timeout: number) => Promise<unknown>

/** One call's context; the AbortController is made only if the method reads `signal`. */
class DirectCall implements MethodContext {
  #controller: AbortController | undefined
  #reason: PolyplugError | undefined
  settled = false

  constructor(
    readonly method: string,
    readonly plugin: PluginContext,
    readonly onProgress: ((value: unknown) => void) | undefined,
    readonly traceparent: string | undefined,
  ) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#reason) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  progress(value: unknown): void {
    if (!this.settled) this.onProgress?.(value)
  }

  abort(reason: PolyplugError): void {
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

export function createDirectInvoker(methods: object, plugin: PluginContext): DirectInvoke {
  const table = new Map(methodEntries(methods))
  const id = plugin.id
  const fail = (error: unknown, method: string) => toPolyplugError(error ?? new Error('rejected')).withContext(id, method)
  return (method, args, options, timeout) => {
    const fn = table.get(method)
    if (!fn) return Promise.reject(new PolyplugError(ErrorCodes.METHOD_NOT_FOUND, methodNotFoundMessage(method, table.keys()), { plugin: id, method }))
    if (options.signal?.aborted) {
      return Promise.reject(new PolyplugError(ErrorCodes.RPC_CANCELLED, 'call cancelled before it was sent', { plugin: id, method }))
    }
    const call = new DirectCall(method, contextFor(plugin, options.traceparent), options.onProgress, options.traceparent)
    const started = Date.now()
    // A stream result keeps the caller's deadline (per item or whole stream) and cancellation.
    const streamed = (value: unknown) =>
      isStreamSource(value)
        ? guardLocalStream(value, { ...options, timeout, deadline: timeout > 0 ? started + timeout : undefined }, id, method)
        : value
    let result: unknown
    try {
      result = invokeWithContext(fn, methods, args, call)
    } catch (error) {
      call.settled = true
      return Promise.reject(fail(error, method))
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') {
      call.settled = true
      return Promise.resolve(streamed(result))
    }
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const finish = (error: PolyplugError | undefined, value?: unknown) => {
        if (call.settled) return
        call.settled = true
        if (timer !== undefined) clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        if (error) reject(error)
        else resolve(value)
      }
      const abandon = (code: string, message: string) => {
        const reason = new PolyplugError(code, message, { plugin: id, method })
        call.abort(reason)
        finish(reason)
      }
      const onAbort = () => abandon(ErrorCodes.RPC_CANCELLED, 'call cancelled by the caller')
      if (timeout > 0) timer = setTimeout(() => abandon(ErrorCodes.RPC_TIMEOUT, `no response within ${timeout} ms`), timeout)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      ;(result as PromiseLike<unknown>).then(
        (value) => finish(undefined, streamed(value)),
        (error: unknown) => finish(fail(error, method)),
      )
    })
  }
}
