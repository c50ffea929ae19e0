/**
 * The wire form of the transports that encode messages themselves (http, ws, mqtt: they route by
 * message shape, so they encode after routing). A message is JSON text; once `$/hello` agreed on
 * bytes as attachments (docs/protocol.md §4.1) a message holding bytes is JSON with attachments,
 * encoded by the one codec in src/rpc/attachments.ts, which these transports mark as binary: a
 * binary WebSocket frame, an `application/octet-stream` body (MQTT payloads are bytes either way).
 * Both forms are read from the start: no JSON text begins with the attachment mark.
 */
import { hasAttachments, jsonReadingAttachments } from '../rpc/attachments.js'
import { parseMessage, stringify, type Codec } from '../rpc/codec.js'
import { PolyplugError, RpcErrorCodes, toPolyplugError } from '../rpc/errors.js'
import { errorToWire } from '../rpc/wire.js'

/** The media type of a body with attachments; a plain JSON body stays application/json. */
export const ATTACHMENTS_MEDIA_TYPE = 'application/octet-stream'

/**
 * What a client that reads both forms sends as `Accept` with every POST. A POST answer carries
 * attachments only when its session agreed on them and the POST accepts them: several clients may
 * share one socket-less session, and one of them agreeing must not change what the others read.
 */
export const ACCEPT_BOTH = `application/json, ${ATTACHMENTS_MEDIA_TYPE}`

/** Whether a request's `Accept` header takes a body with attachments. */
export function acceptsAttachments(accept: string | undefined): boolean {
  if (accept === ACCEPT_BOTH) return true // what polyplug's own client sends with every POST
  return accept !== undefined && accept.split(',').some((type) => type.split(';')[0]!.trim().toLowerCase() === ATTACHMENTS_MEDIA_TYPE)
}

/** One encoded message: JSON text (a string or its UTF-8), or the parts of a message with attachments. */
export type WireForm = { readonly binary: false; readonly data: string | Uint8Array } | { readonly binary: true; readonly data: readonly Uint8Array[] }

/** One channel's encoder: JSON text until the Peer hands it the codec `$/hello` settled on. */
export class MessageWire {
  #codec: Codec | undefined

  /** Channel.useCodec: a JSON codec (with or without attachments) applies here; any other is ignored. */
  use(codec: Codec): void {
    this.#codec = codec.name === 'json' ? codec : undefined
  }

  /** `attach: false` keeps JSON text whatever was agreed (a POST that does not accept attachments). */
  encode(message: unknown, attach = true): WireForm {
    if (!this.#codec || !attach) return { binary: false, data: stringify(message) }
    // A message without bytes is JSON text in either codec: the text as it is, no UTF-8 copy made here.
    const text = this.#codec.text?.(message)
    if (text !== undefined) return { binary: false, data: text }
    return this.#encoded(this.#codec, message)
  }

  /** What a WebSocket frame takes: the JSON text itself (no WireForm made for it), or the encoded form of a message with attachments. */
  frame(message: unknown): string | WireForm {
    if (!this.#codec) return stringify(message)
    return this.#codec.text?.(message) ?? this.#encoded(this.#codec, message)
  }

  #encoded(codec: Codec, message: unknown): WireForm {
    const encoded = codec.encode(message)
    const parts = Array.isArray(encoded) ? encoded : [encoded]
    if (parts.length > 1 || (parts[0] !== undefined && hasAttachments(parts[0]))) return { binary: true, data: parts }
    return { binary: false, data: parts[0] ?? new Uint8Array(0) }
  }
}

/** Total length of an encoded message in bytes. */
export function wireLength(form: WireForm): number {
  if (form.binary) return form.data.reduce((sum, part) => sum + part.byteLength, 0)
  return typeof form.data === 'string' ? Buffer.byteLength(form.data) : form.data.byteLength
}

/** An encoded message as one Buffer (a WebSocket frame or an MQTT payload takes one). */
export function wireBuffer(form: WireForm): Buffer {
  if (!form.binary) return typeof form.data === 'string' ? Buffer.from(form.data) : Buffer.from(form.data.buffer, form.data.byteOffset, form.data.byteLength)
  return form.data.length === 1 ? Buffer.from(form.data[0]!.buffer, form.data[0]!.byteOffset, form.data[0]!.byteLength) : Buffer.concat(form.data)
}

/** Reads one message in either form; throws PARSE_ERROR (a PolyplugError) when it is malformed. */
export function decodeWire(data: Uint8Array): unknown {
  return jsonReadingAttachments.decode(data)
}

/**
 * Reads one WebSocket frame. A binary frame is read in either form (`decodeWire`); a text frame is
 * JSON text whose UTF-8 `ws` validated as it received it (a WebSocket must: RFC 6455 §8.1), so it
 * is read as a string at once instead of being validated a second time. Throws PARSE_ERROR when
 * malformed, as `decodeWire` does.
 */
export function decodeFrame(data: Buffer, binary: boolean): unknown {
  if (binary || hasAttachments(data)) return decodeWire(data)
  const text = data.toString()
  // A byte-order mark is dropped, as the UTF-8 decoder of `decodeWire` drops it.
  return parseMessage(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
}

/**
 * The answer to a message that could not be read (JSON-RPC: id null, PARSE_ERROR), which a
 * self-encoding transport sends back the way an answer goes, as the Peer does on a byte stream.
 */
export function malformedAnswer(cause: unknown): { jsonrpc: '2.0'; id: null; error: ReturnType<typeof errorToWire> } {
  const error = cause instanceof PolyplugError ? cause : new PolyplugError(RpcErrorCodes.PARSE_ERROR, toPolyplugError(cause).message, { cause })
  return { jsonrpc: '2.0', id: null, error: errorToWire(error) }
}
