/**
 * The `direct` fast path for inline plugins: the host calls a plugin's method as a function, with
 * the same contract as a call over a channel — typed errors naming the plugin and method, a
 * deadline (RPC_TIMEOUT), cancellation reaching `ctx.signal`, progress — but without encoding,
 * message shapes or channel hops. Lifecycle and the plugin's own host calls still use the Peer.
 * A method that returns synchronously costs one context object: deadlines and abort listeners
 * are only set up for calls that are still running when the method returns, and one timer per
 * invoker serves the deadlines of all of them.
 */
import { DeadlineTimer } from '../rpc/deadline-timer.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { invokeWithArity } from '../rpc/invoke.js'
import { methodEntries } from '../rpc/peer.js'
import { isStreamSource } from '../rpc/stream.js'
import { guardLocalStream } from '../rpc/stream-local.js'
import type { CallOptions } from '../rpc/types.js'
import { methodNotFoundMessage } from '../rpc/suggest.js'
import type { MethodContext, PluginContext } from './define.js'
import { contextFor } from './trace.js'

/** Told once that a call ended, before its promise settles: with its error if it failed (the host's statistics). */
export type DirectCallEnd = (error?: PolyplugError) => void

/**
 * Calls one method of an inline plugin; `timeout` is the effective deadline in ms (0 for none),
 * passed apart from `options` so that a call does not copy its options to add it. `ended` is
 * called when the call ends — at once for a method that returned synchronously — so that the
 * caller needs no promise of its own to learn it.
 */
export type DirectInvoke = (method: string, args: unknown[], options: CallOptions, timeout: number, ended?: DirectCallEnd) => Promise<unknown>

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

type Fail = (error: unknown, method: string) => PolyplugError
type Streamed = (value: unknown, options: CallOptions, timeout: number, started: number, method: string) => unknown

/** A call whose method is still running: how its promise ends, and its deadline (ms since the epoch; Infinity for none). */
interface Pending {
  call: DirectCall
  resolve(value: unknown): void
  reject(error: PolyplugError): void
  deadline: number
  timeoutMs: number
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  ended: DirectCallEnd | undefined
}

/**
 * The calls of one invoker whose methods are still running. One timer serves all their
 * deadlines, armed for the earliest: a timer per call costs more than a short call.
 */
class RunningCalls {
  readonly #calls = new Set<Pending>()
  readonly #deadlines = new DeadlineTimer(() => this.#sweep())

  constructor(readonly plugin: string) {}

  add(call: DirectCall, result: PromiseLike<unknown>, options: CallOptions, timeout: number, started: number, fail: Fail, streamed: Streamed, ended: DirectCallEnd | undefined): Promise<unknown> {
    const pending = { call, deadline: timeout > 0 ? started + timeout : Infinity, timeoutMs: timeout, signal: options.signal, onAbort: undefined, ended } as Pending
    const promise = new Promise<unknown>((resolve, reject) => {
      pending.resolve = resolve
      pending.reject = reject
    })
    this.#calls.add(pending)
    this.#deadlines.add(pending.deadline)
    // A listener only for a caller that passed a signal.
    if (pending.signal) {
      pending.onAbort = () => this.#abandon(pending, ErrorCodes.RPC_CANCELLED, 'call cancelled by the caller')
      pending.signal.addEventListener('abort', pending.onAbort, { once: true })
    }
    result.then(
      (value) => this.#finish(pending, undefined, isStreamSource(value) ? streamed(value, options, timeout, started, call.method) : value),
      (error: unknown) => this.#finish(pending, fail(error, call.method)),
    )
    return promise
  }

  #finish(pending: Pending, error: PolyplugError | undefined, value?: unknown): void {
    if (pending.call.settled) return
    pending.call.settled = true
    this.#calls.delete(pending)
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort)
    if (this.#calls.size === 0) this.#deadlines.idle()
    pending.ended?.(error)
    if (error) pending.reject(error)
    else pending.resolve(value)
  }

  #abandon(pending: Pending, code: string, message: string): void {
    const reason = new PolyplugError(code, message, { plugin: this.plugin, method: pending.call.method })
    pending.call.abort(reason)
    this.#finish(pending, reason)
  }

  /** Times out every call past its deadline and re-arms for the next one. */
  #sweep(): void {
    const now = Date.now()
    let next = Infinity
    for (const pending of this.#calls) {
      if (pending.deadline <= now) this.#abandon(pending, ErrorCodes.RPC_TIMEOUT, `no response within ${pending.timeoutMs} ms`)
      else if (pending.deadline < next) next = pending.deadline
    }
    if (next < Infinity && this.#calls.size > 0) this.#deadlines.add(next)
  }
}

export function createDirectInvoker(methods: object, plugin: PluginContext): DirectInvoke {
  // Each method with its declared arity, read once: where its context lands (rpc/invoke.ts).
  const table = new Map(methodEntries(methods).map(([name, fn]) => [name, { fn, arity: fn.length }]))
  const id = plugin.id
  const fail = (error: unknown, method: string) => toPolyplugError(error ?? new Error('rejected')).withContext(id, method)
  const running = new RunningCalls(id)
  const streamed = (value: unknown, options: CallOptions, timeout: number, started: number, method: string) =>
    guardLocalStream(value as Parameters<typeof guardLocalStream>[0], { ...options, timeout, deadline: timeout > 0 ? started + timeout : undefined }, id, method)
  const refuse = (error: PolyplugError, ended: DirectCallEnd | undefined) => {
    ended?.(error)
    return Promise.reject(error)
  }
  return (method, args, options, timeout, ended) => {
    const entry = table.get(method)
    if (!entry) return refuse(new PolyplugError(ErrorCodes.METHOD_NOT_FOUND, methodNotFoundMessage(method, table.keys()), { plugin: id, method }), ended)
    if (options.signal?.aborted) return refuse(new PolyplugError(ErrorCodes.RPC_CANCELLED, 'call cancelled before it was sent', { plugin: id, method }), ended)
    const call = new DirectCall(method, contextFor(plugin, options.traceparent), options.onProgress, options.traceparent)
    let result: unknown
    try {
      result = invokeWithArity(entry.fn, entry.arity, methods, args, call)
    } catch (error) {
      call.settled = true
      return refuse(fail(error, method), ended)
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') {
      call.settled = true
      // A stream result keeps the caller's deadline (per item or whole stream) and cancellation;
      // the clock is read only then, so a plain result costs no clock read and no closure.
      if (isStreamSource(result)) {
        try {
          result = streamed(result, options, timeout, Date.now(), method)
        } catch (error) {
          return refuse(fail(error, method), ended)
        }
      }
      ended?.()
      return Promise.resolve(result)
    }
    const started = Date.now()
    return running.add(call, result as PromiseLike<unknown>, options, timeout, started, fail, streamed, ended)
  }
}
