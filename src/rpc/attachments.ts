/**
 * JSON with attachments (docs/protocol.md §4.1): the bytes of a message travel as bytes after its
 * JSON text instead of as base64 inside it. Offered in `$/hello` (capability `"binary"`) on a
 * channel that carries any byte sequence (Channel.binary); a message holding no bytes is plain
 * JSON either way.
 *
 *   0x00 | J (u32, big-endian) | J bytes of UTF-8 JSON | attachment area
 *
 * Each Uint8Array of the message is `{"$bin":[offset,length]}` in the JSON and its bytes lie at
 * that offset of the attachment area. Encoding copies no payload (the parts are written as they
 * are, by one writev); decoding hands out views of the received frame.
 */
import type { Channel } from '../channels/channel.js'
import { fromBytesTag, utf8Bytes } from './bytes.js'
import { containsBytes, jsonCodec, type Codec } from './codec.js'
import { RpcErrorCodes, PolyplugError } from './errors.js'

/** The `$/hello` capability: this side reads messages with attachments, and sends them once the other side says it does. */
export const BINARY_CAPABILITY = 'binary'

/** First byte of a message with attachments: no JSON text starts with it. */
export const ATTACHMENT_MARK = 0x00
const HEAD_BYTES = 5
const BIN_TAG = '$bin'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** True when `bytes` is a message with attachments rather than plain JSON text. */
export function hasAttachments(bytes: Uint8Array): boolean {
  return bytes.byteLength > 0 && bytes[0] === ATTACHMENT_MARK
}

/**
 * The parts of one message (their concatenation is the message): the head with the JSON text,
 * then every attachment as it is. A message without bytes is one part, plain JSON.
 */
export function encodeWithAttachments(message: unknown): Uint8Array[] {
  if (!containsBytes(message)) return [utf8Bytes(JSON.stringify(message))]
  const parts: Uint8Array[] = []
  let offset = 0
  const text = JSON.stringify(message, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `value` went through toJSON already (Buffer's makes it {type, data}): read the original.
    const original = this[key]
    if (!(original instanceof Uint8Array)) return value
    parts.push(original)
    const ref = { [BIN_TAG]: [offset, original.byteLength] }
    offset += original.byteLength
    return ref
  })
  const json = utf8Bytes(text)
  const head = new Uint8Array(HEAD_BYTES + json.byteLength)
  head[0] = ATTACHMENT_MARK
  // Byte by byte, not through a DataView: that would move `head` off V8's heap first.
  const length = json.byteLength
  head[1] = length >>> 24
  head[2] = (length >>> 16) & 0xff
  head[3] = (length >>> 8) & 0xff
  head[4] = length & 0xff
  head.set(json, HEAD_BYTES)
  return [head, ...parts]
}

/** Reads a message with attachments; its Uint8Arrays are views of `bytes` (no copy). Throws PARSE_ERROR when malformed. */
export function decodeWithAttachments(bytes: Uint8Array): unknown {
  if (bytes.byteLength < HEAD_BYTES) throw malformed(`${bytes.byteLength} bytes are too few for its head`)
  const length = (bytes[1] as number) * 0x1000000 + (((bytes[2] as number) << 16) | ((bytes[3] as number) << 8) | (bytes[4] as number))
  if (HEAD_BYTES + length > bytes.byteLength) throw malformed(`its JSON text of ${length} bytes runs past the end of the ${bytes.byteLength}-byte message`)
  const area = bytes.subarray(HEAD_BYTES + length)
  let text: string
  try {
    text = utf8.decode(bytes.subarray(HEAD_BYTES, HEAD_BYTES + length))
  } catch (cause) {
    throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, 'message is not valid UTF-8', { cause })
  }
  const reviver = (_key: string, value: unknown): unknown => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
    const ref = (value as Record<string, unknown>)[BIN_TAG]
    if (ref === undefined || Object.keys(value).length !== 1) return fromBytesTag(value as Record<string, unknown>) ?? value
    if (!Array.isArray(ref) || ref.length !== 2 || !ref.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
      throw malformed(`${JSON.stringify(ref)} is not [offset, length]`)
    }
    const [offset, size] = ref as [number, number]
    if (offset + size > area.byteLength) throw malformed(`attachment [${offset}, ${size}] runs past the ${area.byteLength}-byte attachment area`)
    // A plain Uint8Array view of the frame (a Buffer's subarray would be a Buffer): no copy.
    return new Uint8Array(area.buffer, area.byteOffset + offset, size)
  }
  try {
    return JSON.parse(text, reviver)
  } catch (cause) {
    if (cause instanceof PolyplugError) throw cause
    throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `message is not valid JSON: ${(cause as Error).message}`, { cause })
  }
}

function malformed(reason: string): PolyplugError {
  return new PolyplugError(RpcErrorCodes.PARSE_ERROR, `malformed message with attachments: ${reason}`)
}

function decode(bytes: Uint8Array): unknown {
  return hasAttachments(bytes) ? decodeWithAttachments(bytes) : jsonCodec.decode(bytes)
}

/** Plain JSON out, both forms in: a side that offered BINARY_CAPABILITY reads with it until the other side accepts. */
export const jsonReadingAttachments: Codec = { name: 'json', encode: jsonCodec.encode, text: jsonCodec.text, decode }

/** A message without bytes is plain JSON text with attachments too; one with bytes is not text. */
function textWithoutBytes(message: unknown): string | undefined {
  return containsBytes(message) ? undefined : JSON.stringify(message)
}

/** JSON with bytes as attachments: what a Peer sends once `$/hello` negotiated BINARY_CAPABILITY. It reads plain JSON too. */
export const binaryJsonCodec: Codec = { name: 'json', encode: encodeWithAttachments, text: textWithoutBytes, decode }

/**
 * Whether a side may offer BINARY_CAPABILITY: JSON on a channel that carries any byte sequence,
 * either one the Peer encodes for (`bytes`) or one that encodes itself with the Peer's codec
 * (`useCodec`: http, ws, mqtt). MessagePack carries bytes natively already; a text or cloning
 * channel never sees attachments.
 */
export function mayAttach(channel: Channel, codec: Codec): boolean {
  return channel.binary === true && (channel.carries === 'bytes' || channel.useCodec !== undefined) && codec.name === 'json'
}
