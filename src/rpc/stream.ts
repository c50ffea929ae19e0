/**
 * Streams over a Peer (docs/protocol.md §7.1): a method may return an AsyncIterable and take
 * AsyncIterables as arguments. On the wire a stream is announced as `{"$stream": ID}` in a result
 * or a top-level argument; items follow as `$/stream/item` notifications, the consumer grants
 * credit with `$/stream/credit` (the producer sends only what it was granted), the producer ends
 * with `$/stream/end` (with an error object when it failed) and the consumer may stop it with
 * `$/stream/cancel`. Each side numbers the streams it produces; the message tells whose id it is.
 * This module owns every stream of one Peer; the Peer calls it from a few hooks.
 */
import { RpcErrorCodes, PolyplugError, toPolyplugError } from './errors.js'
import type { StreamTimeoutCovers } from './types.js'
import { errorFromWire, errorToWire, isRecord, type WireError } from './wire.js'

export const StreamMethods = {
  item: '$/stream/item',
  credit: '$/stream/credit',
  end: '$/stream/end',
  cancel: '$/stream/cancel',
} as const

export const STREAM_TAG = '$stream'
/** Items a consumer lets the producer send ahead unless the caller chooses another window. */
export const DEFAULT_WINDOW = 16
const MAX_WINDOW = 65_536

export interface StreamRef {
  [STREAM_TAG]: number
}

/** An AsyncIterable (and not a promise): what a method may return or take as a stream. */
export function isStreamSource(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function' &&
    typeof (value as Partial<PromiseLike<unknown>>).then !== 'function'
  )
}

/** Whether any top-level param is a stream source. */
function hasStreamSource(params: unknown[] | Record<string, unknown>): boolean {
  if (Array.isArray(params)) {
    for (let i = 0; i < params.length; i++) if (isStreamSource(params[i])) return true
    return false
  }
  return Object.values(params).some(isStreamSource)
}

/** The stream id of a `{"$stream": ID}` marker, or undefined for any other value. */
export function streamRefId(value: unknown): number | undefined {
  if (!isRecord(value)) return undefined
  const id = value[STREAM_TAG]
  if (typeof id !== 'number' || !Number.isInteger(id)) return undefined
  for (const key in value) if (key !== STREAM_TAG) return undefined
  return id
}

/** How the consumer of one stream waits: window, deadline and cancellation (from CallOptions). */
export interface ConsumeOptions {
  window?: number
  /** Milliseconds; 0 or undefined for none. */
  timeout?: number
  timeoutCovers?: StreamTimeoutCovers
  /** For `timeoutCovers: 'stream'`: when the whole stream must have ended (epoch ms). */
  deadline?: number
  signal?: AbortSignal
}

type Send = (method: string, params: Record<string, unknown>) => Promise<void>
type MakeError = (code: string, message: string, method?: string) => PolyplugError

/** Every stream one Peer produces or consumes. */
export class Streams {
  readonly #name: string | undefined
  readonly #send: Send
  readonly #error: MakeError
  readonly #producing = new Map<number, OutgoingStream>()
  readonly #consuming = new Map<number, IncomingStream<unknown>>()
  #nextId = 1
  #closeReason: PolyplugError | undefined

  constructor(name: string | undefined, send: Send, makeError: MakeError) {
    this.#name = name
    this.#send = send
    this.#error = makeError
  }

  /** Streams open in either direction (for tests and diagnostics). */
  get openCount(): number {
    return this.#producing.size + this.#consuming.size
  }

  /** Starts producing `source` on the wire; the marker goes in a result or argument. */
  produce(source: AsyncIterable<unknown>, method: string, onFinish?: (cancelled: boolean) => void): StreamRef {
    const id = this.#nextId++
    const stream = new OutgoingStream(id, source, this.#name, method, this.#send, (cancelled) => {
      this.#producing.delete(id)
      onFinish?.(cancelled)
    })
    this.#producing.set(id, stream)
    if (this.#closeReason) stream.cancel()
    return { [STREAM_TAG]: id }
  }

  /** A consumer for the stream the other side announced as `id`. */
  consume<T>(id: number, method: string, options: ConsumeOptions = {}): IncomingStream<T> {
    const stream = new IncomingStream<T>(id, method, options, {
      name: this.#name,
      send: this.#send,
      error: this.#error,
      done: () => {
        if (this.#consuming.get(id) === stream) this.#consuming.delete(id)
      },
    })
    if (this.#closeReason) stream.fail(this.#closeReason)
    else this.#consuming.set(id, stream as IncomingStream<unknown>)
    return stream
  }

  /** Replaces top-level stream sources in `params` with markers; undefined when there are none. */
  produceParams(params: unknown[] | Record<string, unknown> | undefined, method: string): { params: unknown[] | Record<string, unknown>; ids: number[] } | undefined {
    // Checked with plain loops first: this runs on every call, and almost none passes a stream.
    if (params === undefined || !hasStreamSource(params)) return undefined
    const ids: number[] = []
    const swap = (value: unknown): unknown => {
      if (!isStreamSource(value)) return value // an IncomingStream too: a stream received is relayed
      const ref = this.produce(value, method)
      ids.push(ref[STREAM_TAG])
      return ref
    }
    const out = Array.isArray(params) ? params.map(swap) : Object.fromEntries(Object.entries(params).map(([k, v]) => [k, swap(v)]))
    return { params: out, ids }
  }

  /** Replaces top-level markers in received params with consumers. */
  consumeParams(params: unknown[] | Record<string, unknown> | undefined, method: string): IncomingStream<unknown>[] | undefined {
    if (params === undefined) return undefined
    let opened: IncomingStream<unknown>[] | undefined
    // Array params in a plain loop (no key array, no closure): this runs on every request received.
    if (Array.isArray(params)) {
      for (let i = 0; i < params.length; i++) {
        const id = streamRefId(params[i])
        if (id !== undefined) (opened ??= []).push((params[i] = this.consume<unknown>(id, method)))
      }
      return opened
    }
    for (const key of Object.keys(params)) {
      const id = streamRefId(params[key])
      if (id !== undefined) (opened ??= []).push((params[key] = this.consume<unknown>(id, method)))
    }
    return opened
  }

  /** Stops producing stream `id` (e.g. an argument of a call that failed). */
  cancelProduced(id: number): void {
    this.#producing.get(id)?.cancel()
  }

  /** Routes a `$/stream/*` notification; false when `method` is not one. */
  receive(method: string, params: unknown): boolean {
    if (!method.startsWith('$/stream/')) return false
    const p = isRecord(params) ? params : {}
    const id = typeof p.stream === 'number' ? p.stream : undefined
    if (id === undefined) return true
    switch (method) {
      case StreamMethods.item:
        this.#consuming.get(id)?.push(p.value)
        break
      case StreamMethods.end:
        this.#consuming.get(id)?.finish(isRecord(p.error) ? errorFromWire(p.error as unknown as WireError) : undefined)
        break
      case StreamMethods.credit:
        if (typeof p.n === 'number' && p.n > 0) this.#producing.get(id)?.grant(Math.min(p.n, MAX_WINDOW))
        break
      case StreamMethods.cancel:
        this.#producing.get(id)?.cancel()
        break
    }
    return true
  }

  /** The channel closed: every consumer ends with `reason`, every producer is stopped. */
  closeAll(reason: PolyplugError): void {
    this.#closeReason = reason
    for (const stream of [...this.#consuming.values()]) stream.fail(reason)
    for (const stream of [...this.#producing.values()]) stream.cancel()
  }
}

/** The producing side: pulls from the source only while the consumer has granted credit. */
class OutgoingStream {
  #credit = 0
  #wake: (() => void) | undefined
  #stopped = false
  readonly #iterator: AsyncIterator<unknown>

  constructor(
    readonly id: number,
    source: AsyncIterable<unknown>,
    readonly name: string | undefined,
    readonly method: string,
    readonly send: Send,
    readonly onFinish: (cancelled: boolean) => void,
  ) {
    this.#iterator = source[Symbol.asyncIterator]()
    void this.#pump()
  }

  grant(n: number): void {
    this.#credit += n
    this.#wake?.()
  }

  cancel(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#wake?.()
    // Runs the source's `finally` blocks (an async generator's cleanup); its errors are not ours.
    Promise.resolve()
      .then(() => this.#iterator.return?.())
      .catch(() => {})
    this.onFinish(true)
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        while (this.#credit === 0 && !this.#stopped) await new Promise<void>((resolve) => (this.#wake = resolve))
        this.#wake = undefined
        if (this.#stopped) return
        const step = await this.#iterator.next()
        if (this.#stopped) return
        if (step.done) {
          this.#stopped = true
          this.onFinish(false)
          await this.send(StreamMethods.end, { stream: this.id })
          return
        }
        this.#credit--
        await this.send(StreamMethods.item, { stream: this.id, value: step.value })
      }
    } catch (error) {
      if (this.#stopped) return
      this.#stopped = true
      this.onFinish(false)
      const wire = errorToWire(toPolyplugError(error ?? new Error('stream failed')).withContext(this.name, this.method))
      this.send(StreamMethods.end, { stream: this.id, error: wire }).catch(() => {})
      // A source that threw is finished; one whose item could not be sent is told to stop.
      Promise.resolve()
        .then(() => this.#iterator.return?.())
        .catch(() => {})
    }
  }
}

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void
  reject(error: PolyplugError): void
}

interface IncomingHooks {
  name: string | undefined
  send: Send
  error: MakeError
  done(): void
}

/**
 * The consuming side, an AsyncIterableIterator: `for await (const item of stream)`. It grants
 * the window when iteration starts, and more as items are taken, so at most `window` items are
 * ever buffered or in flight. `break` (return) cancels the producer.
 */
export class IncomingStream<T> implements AsyncIterableIterator<T> {
  readonly #buffer: unknown[] = []
  readonly #window: number
  readonly #hooks: IncomingHooks
  #waiter: Waiter<T> | undefined
  #started = false
  #finished = false
  #error: PolyplugError | undefined
  /** Items granted and not yet received. */
  #outstanding = 0
  /** Items taken by the consumer since the last grant. */
  #taken = 0
  #itemTimer: ReturnType<typeof setTimeout> | undefined
  #streamTimer: ReturnType<typeof setTimeout> | undefined
  readonly #onAbort: (() => void) | undefined
  readonly #options: ConsumeOptions

  constructor(
    readonly id: number,
    readonly method: string,
    options: ConsumeOptions,
    hooks: IncomingHooks,
  ) {
    this.#options = options
    this.#hooks = hooks
    const window = Math.floor(options.window ?? DEFAULT_WINDOW)
    this.#window = Math.min(MAX_WINDOW, Math.max(1, Number.isFinite(window) ? window : DEFAULT_WINDOW))
    if (options.timeoutCovers === 'stream' && options.deadline !== undefined && options.deadline < Infinity) {
      this.#streamTimer = setTimeout(() => this.#giveUp(RpcErrorCodes.RPC_TIMEOUT, `stream did not end within ${options.timeout} ms`), Math.max(0, options.deadline - Date.now()))
    }
    if (options.signal) {
      this.#onAbort = () => this.#giveUp(RpcErrorCodes.RPC_CANCELLED, 'stream cancelled by the caller')
      if (options.signal.aborted) queueMicrotask(this.#onAbort)
      else options.signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.#started) {
      this.#started = true
      if (!this.#finished) this.#grant(this.#window)
    }
    if (this.#buffer.length > 0) return Promise.resolve({ value: this.#take(this.#buffer.shift()), done: false })
    if (this.#error) {
      const error = this.#error
      this.#error = undefined // reported once; the loop is over afterwards
      return Promise.reject(error)
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true })
    if (this.#waiter) return Promise.reject(this.#hooks.error(RpcErrorCodes.INVALID_REQUEST, 'a stream has one reader: next() called while another next() waits', this.method))
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
      const { timeout, timeoutCovers } = this.#options
      if (timeout && timeout > 0 && timeoutCovers !== 'stream') {
        this.#itemTimer = setTimeout(() => this.#giveUp(RpcErrorCodes.RPC_TIMEOUT, `no stream item within ${timeout} ms`), timeout)
      }
    })
  }

  /** `break` out of `for await`: tells the producer to stop. */
  return(): Promise<IteratorResult<T>> {
    if (!this.#finished) {
      this.#end()
      this.#hooks.send(StreamMethods.cancel, { stream: this.id }).catch(() => {})
    }
    this.#buffer.length = 0
    this.#error = undefined
    return Promise.resolve({ value: undefined, done: true })
  }

  /** Stops consuming: the same as `break`. */
  cancel(): void {
    void this.return()
  }

  /** An item arrived. */
  push(value: unknown): void {
    if (this.#finished) return
    if (this.#outstanding <= 0) {
      this.#giveUp(RpcErrorCodes.STREAM_OVERRUN, `the producer sent more items than the ${this.#window} it was granted`)
      return
    }
    this.#outstanding--
    const waiter = this.#takeWaiter()
    if (waiter) waiter.resolve({ value: this.#take(value), done: false })
    else this.#buffer.push(value)
  }

  /** The producer ended, with an error when it failed. */
  finish(error: PolyplugError | undefined): void {
    if (this.#finished) return
    const waiter = this.#takeWaiter()
    this.#end()
    const typed = error?.withContext(this.#hooks.name, this.method)
    if (waiter) {
      if (typed) waiter.reject(typed)
      else waiter.resolve({ value: undefined, done: true })
    } else if (typed) {
      this.#error = typed
    }
  }

  /** The channel closed (or the plugin died): the loop ends with `reason`. */
  fail(reason: PolyplugError): void {
    this.finish(reason)
  }

  #giveUp(code: string, message: string): void {
    if (this.#finished) return
    this.#hooks.send(StreamMethods.cancel, { stream: this.id }).catch(() => {})
    this.#buffer.length = 0
    this.finish(this.#hooks.error(code, message, this.method))
  }

  #take(value: unknown): T {
    this.#taken++
    if (!this.#finished && this.#taken * 2 >= this.#window) {
      const n = this.#taken
      this.#taken = 0
      this.#grant(n)
    }
    return value as T
  }

  #grant(n: number): void {
    this.#outstanding += n
    this.#hooks.send(StreamMethods.credit, { stream: this.id, n }).catch(() => {})
  }

  #takeWaiter(): Waiter<T> | undefined {
    const waiter = this.#waiter
    this.#waiter = undefined
    if (this.#itemTimer !== undefined) clearTimeout(this.#itemTimer)
    this.#itemTimer = undefined
    return waiter
  }

  #end(): void {
    this.#finished = true
    if (this.#streamTimer !== undefined) clearTimeout(this.#streamTimer)
    this.#options.signal?.removeEventListener('abort', this.#onAbort as () => void)
    this.#hooks.done()
    this.#takeWaiter()?.resolve({ value: undefined, done: true })
  }
}
