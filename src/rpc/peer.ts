/**
 * The symmetric RPC endpoint: the same class runs in the host and inside a plugin. It knows
 * nothing of transports; it speaks JSON-RPC 2.0 (plus the reserved `$/` methods it owns:
 * `$/cancel` (or LSP's `$/cancelRequest`), `$/progress`, `$/ping`, and `$/stream/*` through src/rpc/stream.ts) over any `Channel`.
 */
import type { Channel } from '../channels/channel.js'
import { utf8Length } from './bytes.js'
import { exceedsDepth, jsonCodec, parse, stringify, type Codec } from './codec.js'
import { RpcErrorCodes, PolyplugError, toPolyplugError } from './errors.js'
import { invokeWithContext } from './invoke.js'
import { methodNotFoundMessage } from './suggest.js'
import { createProxy } from './proxy.js'
import { isStreamSource, StreamMethods, streamRefId, Streams, type IncomingStream } from './stream.js'
import { DeadlineTimer } from './deadline-timer.js'
import { RateLimit } from './rate-limit.js'
import { WaitingById } from './waiting-by-id.js'
import type { CallContext, CallOptions, Handler, Remote } from './types.js'
import {
  classify,
  errorFromWire,
  errorToWire,
  isCancel,
  Reserved,
  type Message,
  type NotificationMessage,
  type RequestId,
  type RequestMessage,
  type ResponseMessage,
} from './wire.js'

export interface PeerOptions {
  /** The plugin this peer serves or talks to; every error it produces names it. */
  name?: string
  /** Encoding for `bytes` channels. Default JSON. */
  codec?: Codec
  /** Default call timeout in ms; 0 (default) means none. */
  timeout?: number
  /** Largest encoded message accepted or sent, in bytes (bytes/text channels). Default 16 MiB. */
  maxMessageBytes?: number
  /** Deepest object/array nesting accepted. Default 64. */
  maxDepth?: number
  /** The notification sent when a call is abandoned: `$/cancel` (default), or LSP's `$/cancelRequest`. Both are accepted. */
  cancelMethod?: string
  /**
   * Most messages waiting for the channel to take them (a plugin that stopped reading); one more
   * send is refused with CHANNEL_FULL. Default 4096.
   */
  maxQueuedMessages?: number
  /** Most bytes waiting likewise. Default 64 MiB. */
  maxQueuedBytes?: number
  /** Messages this peer refused (malformed, oversized, unknown response ids...). */
  onProtocolError?: (error: PolyplugError) => void
}

interface PendingCall {
  method: string
  /** Epoch ms after which the call times out; Infinity for none. */
  deadline: number
  timeoutMs: number
  resolve(value: unknown): void
  reject(error: PolyplugError): void
  /** The caller's options (NO_OPTIONS when it gave none): its signal, onProgress, and how a stream result is consumed. */
  options: CallOptions
  /** Streams this call passes as arguments: stopped if the call fails. */
  argStreams: number[] | undefined
  /** The caller's abort listener, only when it passed a signal: no closure per call otherwise. */
  onAbort: (() => void) | undefined
  /** Told when the call ends, before its promise settles. */
  ended: CallEnded | undefined
}

/** Told once that a call ended, before its promise settles: with its error if it failed (the host's statistics). */
export type CallEnded = (error?: PolyplugError) => void

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
export const DEFAULT_MAX_DEPTH = 64
/** Bad messages answered and reported per second; the rest are counted and reported as one summary. */
export const BAD_INPUT_PER_SECOND = 10
export const DEFAULT_MAX_QUEUED_MESSAGES = 4096
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024

export class Peer {
  readonly name: string | undefined
  readonly #channel: Channel
  #codec: Codec
  readonly #timeout: number
  readonly #maxBytes: number
  readonly #maxDepth: number
  readonly #maxQueued: number
  readonly #maxQueuedBytes: number
  /** Sends the channel has not taken yet (it answered with a promise: backpressure). */
  #queued = 0
  #queuedBytes = 0
  readonly #onProtocolError: ((error: PolyplugError) => void) | undefined
  readonly #cancelMethod: string
  readonly #badInput: RateLimit
  /** The bad message being handled is over the budget: neither answered nor reported. */
  #quiet = false
  readonly #handlers = new Map<string, Handler>()
  /** Calls awaiting their answers: at one call in flight, none is made and deleted in a Map (./waiting-by-id.ts). */
  readonly #pending = new WaitingById<PendingCall>()
  /**
   * Requests whose handler returned a promise and has not settled. A handler that answers at once
   * never enters it: a Map that fills and empties on every request pays V8 a table shrink per
   * delete, which was a quarter of a served plugin's CPU at 256 requests per read.
   */
  readonly #inflight = new Map<RequestId, RequestContext>()
  /** The requests whose handler is running right now, innermost last (more than one only if a handler makes this peer receive). */
  readonly #running: RequestContext[] = []
  readonly #streams: Streams
  #nextId = 1
  #closeReason: PolyplugError | undefined
  // One timer for all deadlines, armed for the earliest: a timer per call costs more than the call.
  readonly #deadlines = new DeadlineTimer(() => this.#sweep())

  constructor(channel: Channel, options: PeerOptions = {}) {
    this.name = options.name
    this.#channel = channel
    this.#codec = onChannel(channel, options.codec ?? jsonCodec)
    this.#timeout = options.timeout ?? 0
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
    this.#maxQueued = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES
    this.#onProtocolError = options.onProtocolError
    this.#cancelMethod = options.cancelMethod ?? Reserved.cancel
    this.#badInput = new RateLimit(BAD_INPUT_PER_SECOND, 1000, (n) =>
      this.#onProtocolError?.(this.#error(RpcErrorCodes.INVALID_REQUEST, `${n} more bad messages within a second were refused without an answer or a report each`)),
    )
    this.#handlers.set(Reserved.ping, () => ({}))
    this.#streams = new Streams(
      this.name,
      (method, params) => this.#send({ jsonrpc: '2.0', method, params }),
      (code, message, method) => this.#error(code, message, method),
    )
    channel.onMessage((message) => this.#receive(message))
    channel.onClose((error) => this.#onChannelClosed(error))
  }

  /** Calls currently awaiting a response. */
  get pendingCount(): number {
    return this.#pending.size
  }

  /** Streams open in either direction. */
  get streamCount(): number {
    return this.#streams.openCount
  }

  get closed(): boolean {
    return this.#closeReason !== undefined
  }

  /** Switches the byte encoding, e.g. after `$/hello` negotiated attachments; a channel that encodes by itself learns it too. */
  setCodec(codec: Codec): void {
    this.#codec = onChannel(this.#channel, codec)
    this.#channel.useCodec?.(codec)
  }

  /** Registers a handler for requests and notifications named `method`. Returns an unregister function. */
  handle(method: string, handler: Handler): () => void {
    this.#handlers.set(method, handler)
    return () => {
      if (this.#handlers.get(method) === handler) this.#handlers.delete(method)
    }
  }

  /** Registers every function of `api` as a method; positional params are spread, the context comes last. */
  expose(api: object, prefix = ''): void {
    for (const [key, value] of methodEntries(api)) {
      this.handle(prefix + key, (params, context) => invokeWithContext(value, api, params, context))
    }
  }

  /**
   * Calls `method` on the other side. `ended`, if given, is told when the call ends, before its
   * promise settles, so that a caller that only wants to learn that (statistics) needs no promise
   * or async frame of its own.
   */
  call<T = unknown>(method: string, params?: unknown[] | Record<string, unknown>, options: CallOptions = NO_OPTIONS, ended?: CallEnded): Promise<T> {
    if (this.#closeReason) return refused(this.#closeReason.withContext(this.name, method), ended)
    if (options.signal?.aborted) return refused(this.#error(RpcErrorCodes.RPC_CANCELLED, 'call cancelled before it was sent', method), ended)
    const id = this.#nextId++
    const streamed = this.#streams.produceParams(params, method)
    if (streamed) params = streamed.params
    const timeoutMs = options.timeout ?? this.#timeout
    const signal = options.signal
    const pending: PendingCall = {
      method,
      deadline: timeoutMs > 0 ? Date.now() + timeoutMs : Infinity,
      timeoutMs,
      resolve: unset,
      reject: unset,
      options,
      argStreams: streamed?.ids,
      onAbort: signal ? () => this.#abandon(id, RpcErrorCodes.RPC_CANCELLED, 'call cancelled by the caller') : undefined,
      ended,
    }
    // One executor for every call (it runs at once, inside the constructor): no closure made per call.
    settling = pending
    const promise = new Promise<T>(takeSettlers)
    settling = undefined
    this.#pending.set(id, pending)
    try {
      this.#deadlines.add(pending.deadline)
      if (pending.onAbort) signal?.addEventListener('abort', pending.onAbort, { once: true })
      const message: RequestMessage = { jsonrpc: '2.0', id, method }
      if (params !== undefined) message.params = params
      if (options.traceparent !== undefined) message.traceparent = options.traceparent
      // A closure for the failure only when the channel pushed back (it answered with a promise).
      this.#trySend(message)?.catch((error: unknown) => this.#settle(id, toPolyplugError(error)))
    } catch (error) {
      this.#settle(id, toPolyplugError(error))
    }
    return promise
  }

  /** Sends a notification; resolves once handed to the channel. */
  async notify(method: string, params?: unknown[] | Record<string, unknown>, traceparent?: string): Promise<void> {
    if (this.#closeReason) throw this.#closeReason.withContext(this.name, method)
    const message: NotificationMessage = params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params }
    if (traceparent !== undefined) message.traceparent = traceparent
    await this.#send(message)
  }

  /** A typed view of the other side: `await peer.proxy<Api>().add(1, 2)`. */
  proxy<Api>(options: CallOptions = {}): Remote<Api> {
    return createProxy<Api>((method, args) => this.call(method, args, options))
  }

  /** Closes the channel; pending calls reject with `reason` (default CHANNEL_CLOSED). */
  close(reason?: Error): Promise<void> {
    return this.#channel.close(reason)
  }

  #error(code: string, message: string, method?: string, cause?: unknown): PolyplugError {
    return new PolyplugError(code, message, { plugin: this.name, method, cause })
  }

  /** The caller gives up on a call: settle it locally and tell the other side to stop. */
  #abandon(id: RequestId, code: string, message: string): void {
    const pending = this.#pending.get(id)
    if (!pending) return
    this.#settle(id, this.#error(code, message, pending.method))
    if (!this.#channel.closed) this.#send({ jsonrpc: '2.0', method: this.#cancelMethod, params: { id } }).catch(() => {})
  }

  /** Times out every call past its deadline and re-arms for the next one. */
  #sweep(): void {
    const now = Date.now()
    let next = Infinity
    for (const id of this.#pending.ids()) {
      const pending = this.#pending.get(id)
      if (pending === undefined) continue // settled by an earlier abandon's side effects
      if (pending.deadline <= now) this.#abandon(id, RpcErrorCodes.RPC_TIMEOUT, `no response within ${pending.timeoutMs} ms`)
      else if (pending.deadline < next) next = pending.deadline
    }
    if (next < Infinity && this.#pending.size > 0) this.#deadlines.add(next)
  }

  #settle(id: RequestId, error: PolyplugError | undefined, result?: unknown): void {
    const pending = this.#pending.get(id)
    if (pending !== undefined) this.#settlePending(id, pending, error, result)
  }

  /** Settles call `id`, whose pending entry the caller has just looked up (one Map lookup per answer, not two). */
  #settlePending(id: RequestId, pending: PendingCall, error: PolyplugError | undefined, result?: unknown): void {
    this.#pending.delete(id)
    if (pending.onAbort) pending.options.signal?.removeEventListener('abort', pending.onAbort)
    if (this.#pending.size === 0) this.#deadlines.idle()

    if (error) {
      for (const stream of pending.argStreams ?? []) this.#streams.cancelProduced(stream)
      const failed = error.withContext(this.name, pending.method)
      pending.ended?.(failed)
      pending.reject(failed)
      return
    }
    pending.ended?.()
    const streamId = streamRefId(result)
    if (streamId === undefined) return pending.resolve(result)
    const { window, timeoutCovers, signal } = pending.options
    pending.resolve(this.#streams.consume(streamId, pending.method, { window, timeoutCovers, signal, timeout: pending.timeoutMs, deadline: pending.deadline }))
  }

  async #send(message: Message): Promise<void> {
    await this.#trySend(message)
  }

  /**
   * Encodes and hands `message` to the channel. Throws at once (too large, channel full);
   * returns a promise only when the channel did not take the message at once, so the common
   * path makes no promise, async frame or closure per message. A channel that encodes text into
   * its own buffer (`sendText`) gets a plain JSON message as its text: no bytes made for it here.
   */
  #trySend(message: Message): Promise<void> | undefined {
    // Depth is checked by the receiver, which must not trust us anyway.
    const channel = this.#channel
    let encoded: unknown = message
    let text: string | undefined
    let size = 0
    if (channel.carries === 'text') {
      text = stringify(message)
      size = text.length
    } else if (channel.carries === 'bytes') {
      text = channel.sendText !== undefined ? this.#codec.text?.(message) : undefined
      if (text !== undefined) {
        // UTF-8 takes at most 3 bytes per UTF-16 unit: counted exactly only when that could pass a limit.
        size = text.length * 3 > this.#maxBytes || this.#queued > 0 ? utf8Length(text) : text.length
      } else {
        const bytes = this.#codec.encode(message)
        size = Array.isArray(bytes) ? byteLength(bytes) : bytes.byteLength
        encoded = bytes
      }
    }
    if (size > this.#maxBytes) {
      throw this.#error(RpcErrorCodes.FRAME_TOO_LARGE, `message of ${size} bytes exceeds the limit of ${this.#maxBytes}`)
    }
    if (this.#queued >= this.#maxQueued || (this.#queued > 0 && this.#queuedBytes + size > this.#maxQueuedBytes)) {
      throw this.#error(
        RpcErrorCodes.CHANNEL_FULL,
        `${this.#queued} messages (${this.#queuedBytes} bytes) already wait for the other side to read; it is not keeping up (limits ${this.#maxQueued} messages, ${this.#maxQueuedBytes} bytes)`,
        'method' in message ? message.method : undefined,
      )
    }
    const sent = text === undefined ? channel.send(encoded) : channel.carries === 'text' ? channel.send(text) : (channel.sendText as (text: string) => void | Promise<void>)(text)
    if (!(sent instanceof Promise)) return undefined
    // Pushed back: the bytes it holds count against the queue's limit, exactly.
    if (text !== undefined && channel.carries === 'bytes' && size === text.length) size = utf8Length(text)
    this.#queued++
    this.#queuedBytes += size
    return sent.finally(() => {
      this.#queued--
      this.#queuedBytes -= size
    })
  }

  /** An error about bad input from the other side, reported within the bad-input budget. */
  #protocolError(code: string, message: string): PolyplugError {
    const error = this.#error(code, message)
    this.#quiet = !this.#badInput.allow()
    if (!this.#quiet) this.#onProtocolError?.(error)
    return error
  }

  /** Answers a bad message unless it is over the budget (a flood of garbage is not echoed back). */
  #answerBadInput(id: RequestId | null, error: PolyplugError): void {
    if (!this.#quiet) this.#respondError(id, error)
  }

  #decode(raw: unknown): unknown {
    if (this.#channel.carries === 'structured-clone') return raw
    const size = typeof raw === 'string' ? raw.length : raw instanceof Uint8Array ? raw.byteLength : -1
    if (size < 0) throw this.#protocolError(RpcErrorCodes.INVALID_REQUEST, `expected ${this.#channel.carries}, got ${typeof raw}`)
    if (size > this.#maxBytes) {
      // A stream that sent an oversized message cannot be trusted to continue: close this one channel.
      const error = this.#protocolError(RpcErrorCodes.FRAME_TOO_LARGE, `incoming message of ${size} bytes exceeds the limit of ${this.#maxBytes}`)
      void this.#channel.close(error)
      throw error
    }
    if (typeof raw === 'string') {
      try {
        return parse(raw)
      } catch (cause) {
        throw this.#protocolError(RpcErrorCodes.PARSE_ERROR, `message is not valid JSON: ${(cause as Error).message}`)
      }
    }
    try {
      return this.#codec.decode(raw as Uint8Array)
    } catch (cause) {
      throw this.#protocolError(RpcErrorCodes.PARSE_ERROR, (cause as Error).message)
    }
  }

  /**
   * Whether a received message is long enough to nest past the depth limit. Every level of nesting
   * costs bytes of any encoding — in JSON an opening and a closing bracket, in MessagePack a
   * header byte — so a message shorter than the limit allows is not walked (most calls' messages).
   */
  #mayNestTooDeep(raw: unknown): boolean {
    // Counted in JSON brackets: a MessagePack header byte stands for an opening and a closing one.
    const brackets = typeof raw === 'string' ? raw.length : raw instanceof Uint8Array ? raw.byteLength * (this.#codec.name === 'json' ? 1 : 2) : Infinity
    // Nesting past maxDepth + 2 levels takes maxDepth + 3 containers, each opened and closed.
    return brackets >= 2 * (this.#maxDepth + 3)
  }

  #receive(raw: unknown): void {
    let value: unknown
    try {
      value = this.#decode(raw)
    } catch (error) {
      if ((error as PolyplugError).code === RpcErrorCodes.PARSE_ERROR) this.#answerBadInput(null, error as PolyplugError)
      return
    }
    if (this.#mayNestTooDeep(raw) && exceedsDepth(value, this.#maxDepth + 2)) {
      const error = this.#protocolError(RpcErrorCodes.MESSAGE_TOO_DEEP, `message nests deeper than ${this.#maxDepth} levels`)
      const shape = classify(value)
      if (shape === 'request') this.#answerBadInput((value as RequestMessage).id, error)
      else if (shape === 'response' && (value as ResponseMessage).id !== null) this.#settle((value as ResponseMessage).id as RequestId, error)
      return
    }
    const classified = classify(value)
    switch (classified) {
      case 'request':
        return this.#onRequest(value as RequestMessage)
      case 'notification': {
        const message = value as NotificationMessage
        return this.#onNotification(message.method, message.params, message.traceparent)
      }
      case 'response':
        return this.#onResponse(value as ResponseMessage)
      default: {
        const error = this.#protocolError(RpcErrorCodes.INVALID_REQUEST, `invalid message: ${classified.reason}`)
        if (classified.id === null) return
        // A malformed answer ends the call it answers, at once; a malformed request gets an error reply.
        if (classified.response) this.#settle(classified.id, error)
        else this.#answerBadInput(classified.id, error)
      }
    }
  }

  #onResponse(message: ResponseMessage): void {
    if (message.id === null) {
      // The other side could not parse something we sent; it cannot say which call it was.
      if (message.error && this.#badInput.allow()) this.#onProtocolError?.(errorFromWire(message.error))
      return
    }
    // Unknown ids are normal after a timeout or cancel: the answer arrived too late. A stream it
    // announces would wait for credit forever: stop it.
    const pending = this.#pending.get(message.id)
    if (pending === undefined) {
      const streamId = message.error ? undefined : streamRefId(message.result)
      if (streamId !== undefined) this.#send({ jsonrpc: '2.0', method: StreamMethods.cancel, params: { stream: streamId } }).catch(() => {})
      return
    }
    if (message.error) this.#settlePending(message.id, pending, errorFromWire(message.error))
    else this.#settlePending(message.id, pending, undefined, message.result)
  }

  #onNotification(method: string, params: unknown, traceparent: string | undefined): void {
    if (this.#streams.receive(method, params)) return
    if (isCancel(method)) {
      const id = (params as { id?: RequestId } | undefined)?.id
      if (id !== undefined) this.#inFlight(id)?.abort(this.#error(RpcErrorCodes.RPC_CANCELLED, 'cancelled by the caller'))
      return
    }
    if (method === Reserved.progress) {
      const { id, value } = (params ?? {}) as { id?: RequestId; value?: unknown }
      if (id !== undefined) this.#pending.get(id)?.options.onProgress?.(value)
      return
    }
    const handler = this.#handlers.get(method)
    if (!handler) return
    const context: CallContext = { signal: NEVER_ABORTED, method, progress: () => {}, traceparent: typeof traceparent === 'string' ? traceparent : undefined }
    try {
      const result = handler(params as Parameters<Handler>[0], context)
      if (isPromiseLike(result)) result.then(undefined, (error: unknown) => this.#reportNotificationError(method, error))
    } catch (error) {
      this.#reportNotificationError(method, error)
    }
  }

  #reportNotificationError(method: string, error: unknown): void {
    this.#onProtocolError?.(toPolyplugError(error).withContext(this.name, method))
  }

  /** The context of request `id` if it is in flight: its handler running now, or its promise pending. */
  #inFlight(id: RequestId): RequestContext | undefined {
    const waiting = this.#inflight.get(id)
    if (waiting !== undefined) return waiting
    for (const running of this.#running) if (running.id === id) return running
    return undefined
  }

  #onRequest(message: RequestMessage): void {
    const { id, method } = message
    if (this.#inFlight(id) !== undefined) {
      this.#answerBadInput(id, this.#protocolError(RpcErrorCodes.DUPLICATE_REQUEST_ID, `request id ${JSON.stringify(id)} is already in flight`))
      return
    }
    const handler = this.#handlers.get(method)
    if (!handler) {
      this.#respondError(id, this.#error(RpcErrorCodes.METHOD_NOT_FOUND, methodNotFoundMessage(method, this.#handlers.keys()), method))
      return
    }
    const context = new RequestContext(this, id, method, typeof message.traceparent === 'string' ? message.traceparent : undefined)
    const argStreams = this.#streams.consumeParams(message.params, method)
    this.#running.push(context)
    let result: unknown
    let threw = false
    try {
      result = handler(message.params, context)
    } catch (error) {
      threw = true
      // `throw undefined` is still a failure, not an answer.
      result = error ?? new Error('the handler threw undefined')
    } finally {
      this.#running.pop()
    }
    if (threw) {
      this.#finishRequest(id, method, result, undefined, argStreams)
    } else if (isPromiseLike(result)) {
      // In flight until it settles: a cancel or a duplicate id finds it, a closing channel aborts it
      // (a channel that closed while the handler ran has aborted it already).
      if (this.#closeReason === undefined) this.#inflight.set(id, context)
      result.then(
        (value) => {
          this.#inflight.delete(id)
          this.#finishRequest(id, method, undefined, value, argStreams, context)
        },
        (error: unknown) => {
          this.#inflight.delete(id)
          this.#finishRequest(id, method, error ?? new Error('the handler rejected with undefined'), undefined, argStreams)
        },
      )
    } else {
      this.#finishRequest(id, method, undefined, result, argStreams, context)
    }
  }

  /**
   * Answers a request. A stream result is announced and produced from here on; the argument
   * streams of the call live until its answer, or until its result stream ends.
   */
  #finishRequest(id: RequestId, method: string, error: unknown, result: unknown, argStreams?: IncomingStream<unknown>[], cancel?: RequestContext): void {
    if (error === undefined && isStreamSource(result) && !this.#channel.closed) {
      result = this.#streams.produce(result, method, (cancelled) => {
        if (cancelled) cancel?.abort(this.#error(RpcErrorCodes.RPC_CANCELLED, 'stream cancelled by the consumer', method))
        releaseArgs(argStreams)
      })
    } else {
      releaseArgs(argStreams)
    }
    if (this.#channel.closed) return
    if (error !== undefined) {
      this.#respondError(id, toPolyplugError(error).withContext(this.name, method))
      return
    }
    // e.g. the result is too large: the caller still gets an answer, as an error.
    try {
      this.#trySend({ jsonrpc: '2.0', id, result: result === undefined ? null : result })?.catch((sendError: unknown) => this.#respondError(id, toPolyplugError(sendError).withContext(this.name, method)))
    } catch (sendError) {
      this.#respondError(id, toPolyplugError(sendError).withContext(this.name, method))
    }
  }

  #respondError(id: RequestId | null, error: PolyplugError): void {
    if (this.#channel.closed) return
    this.#send({ jsonrpc: '2.0', id, error: errorToWire(error) }).catch(() => {})
  }

  #onChannelClosed(error?: Error): void {
    const reason =
      error instanceof PolyplugError
        ? error
        : this.#error(RpcErrorCodes.CHANNEL_CLOSED, error ? `channel closed: ${error.message}` : 'channel closed', undefined, error)
    this.#closeReason = reason
    this.#badInput.dispose()
    this.#deadlines.disarm()
    for (const id of this.#pending.ids()) this.#settle(id, reason)
    for (const controller of this.#inflight.values()) controller.abort(reason)
    this.#inflight.clear()
    for (const controller of this.#running) controller.abort(reason)
    this.#streams.closeAll(reason)
  }
}

const NEVER_ABORTED = new AbortController().signal

/**
 * The options of a call made without any: one shared, frozen object rather than a fresh `{}` per
 * call, which the call's pending entry would hold until its answer (at 256 calls in flight, bytes
 * that survive a scavenge).
 */
export const NO_OPTIONS: CallOptions = Object.freeze({})

/**
 * One incoming request's context, a class rather than an object literal: a literal with a getter
 * cost V8 microseconds per call to create. Its AbortController is made only when the handler reads
 * `signal` — creating AbortSignals is the single largest cost of a small call in Node, and most
 * handlers never look at theirs.
 */
class RequestContext implements CallContext {
  readonly #peer: Peer
  #controller: AbortController | undefined
  #reason: unknown
  aborted = false

  constructor(
    peer: Peer,
    readonly id: RequestId,
    readonly method: string,
    readonly traceparent: string | undefined,
  ) {
    this.#peer = peer
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  progress(value: unknown): void {
    if (!this.aborted) void this.#peer.notify(Reserved.progress, { id: this.id, value }).catch(() => {})
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

/** The call whose promise is being made: `takeSettlers` gives it its resolve and reject. */
let settling: PendingCall | undefined
function takeSettlers(resolve: (value: never) => void, reject: (error: PolyplugError) => void): void {
  settling!.resolve = resolve as (value: unknown) => void
  settling!.reject = reject
}
function unset(): void {}

function refused<T>(error: PolyplugError, ended: CallEnded | undefined): Promise<T> {
  ended?.(error)
  return Promise.reject(error)
}

function releaseArgs(argStreams: IncomingStream<unknown>[] | undefined): void {
  if (argStreams) for (const stream of argStreams) stream.cancel()
}

/** The codec's parts form where the channel writes parts at once (Channel.binary); else the codec. */
function onChannel(channel: Channel, codec: Codec): Codec {
  return channel.binary === true && channel.carries === 'bytes' && codec.parts ? codec.parts : codec
}

function byteLength(parts: Uint8Array[]): number {
  let size = 0
  for (const part of parts) size += part.byteLength
  return size
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

/** Own and inherited methods of an object (class instances included), without Object.prototype's. */
export function methodEntries(api: object): [string, (...args: unknown[]) => unknown][] {
  const out = new Map<string, (...args: unknown[]) => unknown>()
  for (let o: object | null = api; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor' || out.has(key)) continue
      const value = (api as Record<string, unknown>)[key]
      if (typeof value === 'function') out.set(key, value as (...args: unknown[]) => unknown)
    }
  }
  return [...out]
}
