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
import { ANSWER_LATER, type LaterAnswer } from './answer-later.js'
import { SlotList } from './slot-list.js'

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

/** A call's deadline in ms since the epoch when it starts running on now; Infinity for no timeout (0). */
const deadlineAfter = (timeout: number): number => (timeout > 0 ? Date.now() + timeout : Infinity)

/**
 * One call's context, and, if the call runs on after its method returned, its pending record: the
 * caller's promise, its deadline and the caller's abort listener live here, so that a waiting call
 * keeps one object of the host's alive. The AbortController is made only if the method reads
 * `signal`. A kind that runs the call elsewhere can be told of its abort without one
 * (`[WATCH_ABORT]`, src/sdk/abort-watch.ts), and can settle the caller's promise from its own
 * callback instead of returning a promise of its own (`[ANSWER_LATER]`, src/sdk/answer-later.ts).
 */
class DirectCall implements MethodContext, LaterAnswer {
  #controller: AbortController | undefined = undefined
  #reason: PolyplugError | undefined = undefined
  #watcher: AbortWatcher | undefined = undefined
  settled = false
  /** The caller's promise, once the call runs on (`runOn`); undefined while the method has not returned or took no answer. */
  promise: Promise<unknown> | undefined = undefined
  #resolve: ((value: unknown) => void) | undefined = undefined
  #reject: ((error: PolyplugError) => void) | undefined = undefined
  /** Ms since the epoch once the call runs on; Infinity for none. */
  deadline = Infinity
  /** Its place among its plugin's running calls (RunningCalls). */
  slot = -1
  #onAbort: (() => void) | undefined = undefined

  constructor(
    readonly method: string,
    readonly plugin: PluginContext,
    readonly onProgress: ((value: unknown) => void) | undefined,
    readonly traceparent: string | undefined,
    private readonly owner: DirectPlugin,
    private readonly options: CallOptions,
    private readonly timeout: number,
    private readonly end: DirectCallEnd | undefined,
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

  /** Taken while the method runs, the call runs on until the answer comes; taken later, it answers a call that is still running (the first answer wins). */
  [ANSWER_LATER](): LaterAnswer {
    if (this.promise === undefined && !this.settled) this.runOn()
    return this
  }

  abort(reason: PolyplugError): void {
    this.#reason = reason
    this.#controller?.abort(reason)
    this.#watcher?.aborted()
  }

  /**
   * The call goes on after its method returned (or took its answer): the caller's promise is made,
   * and its deadline and the caller's signal are watched until it is settled (`resolve`, `reject`).
   */
  runOn(): Promise<unknown> {
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.promise = promise
    this.deadline = deadlineAfter(this.timeout)
    this.owner.running.add(this)
    // A listener only for a caller that passed a signal.
    const signal = this.options.signal
    if (signal !== undefined) {
      this.#onAbort = () => this.#abandon(ErrorCodes.RPC_CANCELLED, 'call cancelled by the caller')
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    return promise
  }

  /** The answer; a stream keeps the caller's deadline and cancellation. Nothing once the call was settled (a late answer). */
  resolve(value: unknown): void {
    if (this.settled) return
    if (isStreamSource(value)) {
      try {
        value = this.owner.streamed(value, this.options, this.timeout, this.deadline, this.method)
      } catch (error) {
        return this.reject(error)
      }
    }
    this.#finish(undefined, value)
  }

  /** The call failed: typed, naming the plugin and method, as a throw is. */
  reject(error: unknown): void {
    if (!this.settled) this.#finish(this.owner.fail(error, this.method))
  }

  /** Past its deadline (RunningCalls' sweep). */
  timedOut(): void {
    this.#abandon(ErrorCodes.RPC_TIMEOUT, `no response within ${this.timeout} ms`)
  }

  #abandon(code: string, message: string): void {
    const reason = new PolyplugError(code, message, { plugin: this.owner.id, method: this.method })
    this.abort(reason)
    this.#finish(reason)
  }

  #finish(error: PolyplugError | undefined, value?: unknown): void {
    this.settled = true
    this.owner.running.delete(this)
    if (this.#onAbort) this.options.signal?.removeEventListener('abort', this.#onAbort)
    this.end?.ended(error)
    if (error) this.#reject!(error)
    else this.#resolve!(value)
  }
}

/**
 * The calls of one invoker whose methods are still running. One timer serves all their
 * deadlines, armed for the earliest: a timer per call costs more than a short call.
 */
class RunningCalls {
  readonly #calls = new SlotList<DirectCall>()
  readonly #deadlines = new DeadlineTimer(() => this.#sweep())

  add(call: DirectCall): void {
    this.#calls.add(call)
    this.#deadlines.add(call.deadline)
  }

  delete(call: DirectCall): void {
    this.#calls.delete(call)
    if (this.#calls.size === 0) this.#deadlines.idle()
  }

  /** Times out every call past its deadline and re-arms for the next one. */
  #sweep(): void {
    const now = Date.now()
    let next = Infinity
    for (const call of this.#calls.snapshot()) {
      if (call.settled) continue // ended while an earlier one timed out
      if (call.deadline <= now) call.timedOut()
      else if (call.deadline < next) next = call.deadline
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
    this.running = new RunningCalls()
  }

  fail = (error: unknown, method: string): PolyplugError => toPolyplugError(error ?? new Error('rejected')).withContext(this.id, method)

  /** `deadline`: ms since the epoch, Infinity for none. */
  streamed = (value: unknown, options: CallOptions, timeout: number, deadline: number, method: string): unknown =>
    guardLocalStream(value as Parameters<typeof guardLocalStream>[0], { ...options, timeout, deadline: deadline < Infinity ? deadline : undefined }, this.id, method)

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
    const call = args.length >= this.#seen && Array.isArray(args) ? undefined : this.#context(options, timeout, end)
    let result: unknown
    try {
      result = call === undefined ? invokeAlone(this.fn, this.invoker.methods, args) : applyWithContext(this.fn, this.#arity, this.invoker.methods, args, call)
    } catch (error) {
      return this.#threw(call, error, end)
    }
    // A method that took its answer (src/sdk/answer-later.ts) is answered through it: what it returned is not read.
    if (call?.promise !== undefined) return call.promise
    // Only an object or a function can be a promise or a stream: `#later` tells which.
    if (typeof result === 'object' ? result !== null : typeof result === 'function') return this.#later(call ?? this.#context(options, timeout, end), result, options, timeout, end)
    if (call !== undefined) call.settled = true
    end?.ended()
    return Promise.resolve(result)
  }

  #context(options: CallOptions, timeout: number, end: DirectCallEnd | undefined): DirectCall {
    if (Number.isNaN(this.#seen)) this.#seen = argumentsSeen(this.fn)
    const invoker = this.invoker
    const traceparent = options.traceparent
    const plugin = traceparent === undefined ? invoker.plugin : contextFor(invoker.plugin, traceparent)
    return new DirectCall(this.name, plugin, options.onProgress, traceparent, invoker, options, timeout, end)
  }

  #cancelled(end: DirectCallEnd | undefined): Promise<never> {
    return this.invoker.refuse(new PolyplugError(ErrorCodes.RPC_CANCELLED, 'call cancelled before it was sent', { plugin: this.invoker.id, method: this.name }), end)
  }

  #threw(call: DirectCall | undefined, error: unknown, end: DirectCallEnd | undefined): Promise<unknown> {
    if (call?.promise !== undefined) {
      // It took its answer, then threw: the throw is the answer (unless a deadline or cancel came first).
      call.reject(error)
      return call.promise
    }
    if (call !== undefined) call.settled = true
    return this.invoker.refuse(this.invoker.fail(error, this.name), end)
  }

  /**
   * A result that is an object or a function: a promise goes on running (with its deadline and
   * cancellation), a stream keeps the caller's deadline and cancellation, anything else is the answer.
   */
  #later(call: DirectCall, result: unknown, options: CallOptions, timeout: number, end: DirectCallEnd | undefined): Promise<unknown> {
    // The clock is read only here, so a plain result costs no clock read and no closure.
    if (typeof (result as PromiseLike<unknown>).then === 'function') {
      const promise = call.runOn()
      ;(result as PromiseLike<unknown>).then(
        (value) => call.resolve(value),
        (error: unknown) => call.reject(error),
      )
      return promise
    }
    call.settled = true
    if (isStreamSource(result)) {
      const { fail, streamed } = this.invoker
      try {
        result = streamed(result, options, timeout, deadlineAfter(timeout), this.name)
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
