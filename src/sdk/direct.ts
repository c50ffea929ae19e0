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
import { invokeAlone, invokeWithArity } from '../rpc/invoke.js'
import { methodEntries } from '../rpc/peer.js'
import { isStreamSource } from '../rpc/stream.js'
import { guardLocalStream } from '../rpc/stream-local.js'
import type { CallOptions } from '../rpc/types.js'
import { methodNotFoundMessage } from '../rpc/suggest.js'
import type { MethodContext, PluginContext } from './define.js'
import { contextFor } from './trace.js'
import { argumentsSeen } from './arguments-seen.js'
import { WATCH_ABORT, type AbortWatcher } from './abort-watch.js'

/**
 * Told once that a call ended, before its promise settles: with its error if it failed (the host's
 * statistics). An object, not a closure, so that the usual end of an untimed call is one increment
 * the caller's compiled code can take in line.
 */
export interface DirectCallEnd {
  ended(error?: PolyplugError): void
}

/**
 * Calls one method of an inline plugin; `timeout` is the effective deadline in ms (0 for none),
 * passed apart from `options` so that a call does not copy its options to add it. `end` is told
 * when the call ends — at once for a method that returned synchronously — so that the caller
 * needs no promise of its own to learn it.
 */
export type DirectInvoke = (method: string, args: unknown[], options: CallOptions, timeout: number, end?: DirectCallEnd) => Promise<unknown>

/** The direct invoker, and each of its methods found once by name (`method`), for a caller that calls the same names again. */
export type DirectInvoker = DirectInvoke & {
  /** The plugin's method `name`, resolved once; undefined when it has none by that name. */
  method(name: string): DirectMethod | undefined
}

/**
 * One call's context; the AbortController is made only if the method reads `signal`. A kind that
 * runs the call elsewhere can be told of its abort without one (`[WATCH_ABORT]`, src/sdk/abort-watch.ts).
 */
class DirectCall implements MethodContext {
  #controller: AbortController | undefined
  #reason: PolyplugError | undefined
  #watcher: AbortWatcher | undefined
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

  [WATCH_ABORT](watcher: AbortWatcher): void {
    if (this.#reason) watcher.aborted()
    else this.#watcher = watcher
  }

  abort(reason: PolyplugError): void {
    this.#reason = reason
    this.#controller?.abort(reason)
    this.#watcher?.aborted()
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
    pending.ended?.ended(error)
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

/** What the methods of one invoker share: the plugin, how an error is typed, the calls still running. */
export class DirectPlugin {
  readonly id: string
  readonly running: RunningCalls

  constructor(
    readonly methods: object,
    readonly plugin: PluginContext,
  ) {
    this.id = plugin.id
    this.running = new RunningCalls(this.id)
  }

  fail = (error: unknown, method: string): PolyplugError => toPolyplugError(error ?? new Error('rejected')).withContext(this.id, method)

  streamed = (value: unknown, options: CallOptions, timeout: number, started: number, method: string): unknown =>
    guardLocalStream(value as Parameters<typeof guardLocalStream>[0], { ...options, timeout, deadline: timeout > 0 ? started + timeout : undefined }, this.id, method)

  refuse(error: PolyplugError, end: DirectCallEnd | undefined): Promise<never> {
    end?.ended(error)
    return Promise.reject(error)
  }
}

/**
 * The method called with its arguments and then its context: straight for none or one argument
 * that fills its declared arity (the usual call, small enough to be compiled in line with its
 * caller), else through invokeWithArity, which also pads, copies and passes named params. Kept
 * apart from invokeWithArity's own fast path on purpose: with one function serving both this lane
 * and the served Peer's handlers (sdk/serve.ts), `profile.js serve 200000 0 256` read 3.4-3.6
 * against 2.5-2.6 µs CPU per request in two of three interleaved pairs.
 */
function applyWithContext(fn: (...args: unknown[]) => unknown, arity: number, self: unknown, args: unknown[], context: unknown): unknown {
  if (arity <= 2 && Array.isArray(args)) {
    if (args.length === 1) return fn.call(self, args[0], context)
    if (args.length === 0 && arity <= 1) return fn.call(self, context)
  }
  return invokeWithArity(fn, arity, self, args, context)
}

/**
 * One method of an inline plugin, found once by name with its declared arity (where its context
 * lands, rpc/invoke.ts). `call` is the whole call of a method that returns synchronously; a
 * promise, a stream, a throw and a cancelled call leave it for the functions below, so that what
 * every call runs stays small enough for the caller's compiled code to take in line.
 */
export class DirectMethod {
  readonly #arity: number
  /**
   * The arguments the method can read (src/sdk/arguments-seen.ts): called with at least as many, it
   * cannot reach a context. Read from its source at its first call (NaN until then: that call gets
   * a context), so that a plugin's start reads no method's source.
   */
  #seen = NaN

  constructor(
    readonly name: string,
    readonly fn: (...args: unknown[]) => unknown,
    readonly invoker: DirectPlugin,
  ) {
    this.#arity = fn.length
  }

  call(args: unknown[], options: CallOptions, timeout: number, end?: DirectCallEnd): Promise<unknown> {
    if (options.signal?.aborted) return this.#cancelled(end)
    // A context would land past what the method can read: none is made, it is called with its arguments alone.
    const call = args.length >= this.#seen && Array.isArray(args) ? undefined : this.#context(options)
    let result: unknown
    try {
      result = call === undefined ? invokeAlone(this.fn, this.invoker.methods, args) : applyWithContext(this.fn, this.#arity, this.invoker.methods, args, call)
    } catch (error) {
      return this.#threw(call, error, end)
    }
    // Only an object or a function can be a promise or a stream: `#later` tells which.
    if (typeof result === 'object' ? result !== null : typeof result === 'function') return this.#later(call ?? this.#context(options), result, options, timeout, end)
    if (call !== undefined) call.settled = true
    end?.ended()
    return Promise.resolve(result)
  }

  #context(options: CallOptions): DirectCall {
    if (Number.isNaN(this.#seen)) this.#seen = argumentsSeen(this.fn)
    const plugin = this.invoker.plugin
    const traceparent = options.traceparent
    return new DirectCall(this.name, traceparent === undefined ? plugin : contextFor(plugin, traceparent), options.onProgress, traceparent)
  }

  #cancelled(end: DirectCallEnd | undefined): Promise<never> {
    return this.invoker.refuse(new PolyplugError(ErrorCodes.RPC_CANCELLED, 'call cancelled before it was sent', { plugin: this.invoker.id, method: this.name }), end)
  }

  #threw(call: DirectCall | undefined, error: unknown, end: DirectCallEnd | undefined): Promise<never> {
    if (call !== undefined) call.settled = true
    return this.invoker.refuse(this.invoker.fail(error, this.name), end)
  }

  /**
   * A result that is an object or a function: a promise goes on running (with its deadline and
   * cancellation), a stream keeps the caller's deadline and cancellation, anything else is the answer.
   */
  #later(call: DirectCall, result: unknown, options: CallOptions, timeout: number, end: DirectCallEnd | undefined): Promise<unknown> {
    const { running, fail, streamed } = this.invoker
    // The clock is read only here, so a plain result costs no clock read and no closure.
    if (typeof (result as PromiseLike<unknown>).then === 'function') return running.add(call, result as PromiseLike<unknown>, options, timeout, Date.now(), fail, streamed, end)
    call.settled = true
    if (isStreamSource(result)) {
      try {
        result = streamed(result, options, timeout, Date.now(), this.name)
      } catch (error) {
        return this.invoker.refuse(fail(error, this.name), end)
      }
    }
    end?.ended()
    return Promise.resolve(result)
  }
}

export function createDirectInvoker(methods: object, plugin: PluginContext): DirectInvoker {
  const invoker = new DirectPlugin(methods, plugin)
  const table = new Map(methodEntries(methods).map(([name, fn]) => [name, new DirectMethod(name, fn, invoker)]))
  const invoke: DirectInvoke = (method, args, options, timeout, end) => {
    const found = table.get(method)
    if (found !== undefined) return found.call(args, options, timeout, end)
    return invoker.refuse(new PolyplugError(ErrorCodes.METHOD_NOT_FOUND, methodNotFoundMessage(method, table.keys()), { plugin: invoker.id, method }), end)
  }
  return Object.assign(invoke, { method: (name: string) => table.get(name) })
}
