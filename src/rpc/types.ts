/** Types shared by the Peer and the typed proxies. */

/** What a method handler learns about the call it serves. */
export interface CallContext {
  /** Aborted when the caller cancels, the call times out on the caller's side, or the channel closes. */
  readonly signal: AbortSignal
  readonly method: string
  /** The caller's W3C `traceparent`, when its message carried one: pass it on (CallOptions.traceparent) to keep one trace. */
  readonly traceparent?: string
  /** Sends a `$/progress` notification for this call to the caller. */
  progress(value: unknown): void
}

export interface CallOptions {
  /** Milliseconds; 0 disables. Defaults to the Peer's `timeout`. */
  timeout?: number
  signal?: AbortSignal
  /** Receives the handler's `progress(...)` values. */
  onProgress?: (value: unknown) => void
  /** W3C `traceparent` sent with the request, so the callee's work joins the caller's trace. */
  traceparent?: string
  /**
   * When the result is a stream: what `timeout` bounds. `'item'` (default): each wait for the
   * next item; `'stream'`: the whole stream, from the call until its end.
   */
  timeoutCovers?: StreamTimeoutCovers
  /** When the result is a stream: items the producer may send ahead of the consumer. Default 16. */
  window?: number
}

export type StreamTimeoutCovers = 'item' | 'stream'

/**
 * What a stream-returning method gives its caller: iterate it directly
 * (`for await (const x of api.count(3))`) or await it first for the stream object.
 */
export type RemoteStream<T> = Promise<AsyncIterableIterator<T>> & AsyncIterable<T>

/** Low-level handler: raw JSON-RPC params in, result out (sync or async). */
export type Handler = (params: unknown[] | Record<string, unknown> | undefined, context: CallContext) => unknown

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown

/** Drops a trailing CallContext parameter: callers never pass it, the runtime does. */
export type StripContext<P extends unknown[]> = P extends [...infer Head, infer Last]
  ? [Last] extends [CallContext]
    ? Head
    : P
  : P

/** The caller's view of an implementation: every method async, without its CallContext. */
export type Remote<Api> = {
  [K in keyof Api as Api[K] extends AnyFunction ? K : never]: Api[K] extends (...args: infer P) => infer R
    ? Awaited<R> extends AsyncIterable<infer T>
      ? (...args: StripContext<P>) => RemoteStream<T>
      : (...args: StripContext<P>) => Promise<Awaited<R>>
    : never
}
