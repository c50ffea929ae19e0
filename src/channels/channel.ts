import type { Codec } from '../rpc/codec.js'
import type { PolyplugError } from '../rpc/errors.js'

/**
 * The one interface every transport implements. A channel moves whole messages and reports its
 * closure; ids, timeouts and errors belong to the RPC Peer. A channel does not own the worker,
 * process or connection behind it.
 */

/**
 * What `send` accepts without further encoding:
 * - `bytes`: a Uint8Array per message (byte streams, shared memory); the Peer applies a codec.
 * - `text`: a string per message (WebSocket text frames, NDJSON); the Peer applies JSON.
 * - `structured-clone`: any structured-cloneable value (MessagePort, in-memory); no codec.
 */
export type Carries = 'bytes' | 'text' | 'structured-clone'

export interface Channel {
  readonly carries: Carries
  /**
   * A `bytes` channel that delivers any byte sequence unchanged (a length-framed stream, shared
   * memory), and takes a message as parts too (an array of Uint8Array sent as their concatenation,
   * in one write): the Peer may then send bytes as attachments (docs/protocol.md §4.1).
   */
  readonly binary?: boolean
  /**
   * Present on a `structured-clone` channel that writes messages to a byte-carrying wire itself
   * (http, ws, mqtt: they route by message shape, so they encode after routing) and is `binary`:
   * the Peer hands it the codec `$/hello` settled on, and it encodes with it from then on — JSON
   * with attachments once both sides agreed on them (docs/protocol.md §4.1). It reads both forms.
   */
  useCodec?(codec: Codec): void
  /**
   * Present on a channel that takes a request at once and, when it cannot deliver it after all
   * (an http POST that met a dropped connection), answers it itself with an error answer for its
   * id instead of a send that rejects. `explain` says what such a failure means before it is
   * answered, as the owner of a wrapped channel explains a send's rejection (the process placement:
   * PLUGIN_CRASHED once the exit status follows). Set once; without it the failure is answered as it is.
   */
  explainFailures?(explain: ExplainFailure): void
  /** Throws (or rejects) with CHANNEL_CLOSED once the channel is closed. */
  send(message: unknown): void | Promise<void>
  /**
   * Present on a `bytes` channel that encodes text into its own write buffer (a length-framed
   * stream): sends the UTF-8 of `text` as one message, the same bytes as `send` of them, without
   * a Uint8Array made for the message and copied again. The Peer uses it for a message its codec
   * writes as plain JSON text (Codec.text); it throws and rejects as `send` does.
   */
  sendText?(text: string): void | Promise<void>
  /** Returns an unsubscribe function. Messages that arrive before the first listener are queued. */
  onMessage(listener: (message: unknown) => void): () => void
  /** Fires exactly once; `error` is undefined for a clean close. Late listeners are called at once. */
  onClose(listener: (error?: Error) => void): () => void
  /** Idempotent; resolves when the underlying resource is released. */
  close(reason?: Error): Promise<void>
  readonly closed: boolean
}

/** What a failure to deliver a request means, found at once or once more is known (Channel.explainFailures). */
export type ExplainFailure = (error: PolyplugError) => PolyplugError | Promise<PolyplugError>

/** What a transport must tell the channel it lives in. */
export interface ChannelSink {
  message(message: unknown): void
  /** The transport ended by itself (peer gone, error); `error` undefined for a clean end. */
  closed(error?: Error): void
}

/**
 * The minimal surface a transport implements; `normalizeChannel` turns it into a `Channel`
 * with idempotent close, exactly-once close events and send-after-close errors.
 */
export interface RawChannel {
  readonly carries: Carries
  readonly binary?: boolean
  useCodec?(codec: Codec): void
  /** Channel.explainFailures, where the transport answers requests it could not deliver. */
  explainFailures?(explain: ExplainFailure): void
  /** Called once, synchronously, by `normalizeChannel`. */
  open(sink: ChannelSink): void
  send(message: unknown): void | Promise<void>
  /** Channel.sendText, where the transport has it. */
  sendText?(text: string): void | Promise<void>
  /** Release resources. Called at most once, and never after the transport reported `closed`. */
  close(reason?: Error): void | Promise<void>
}
