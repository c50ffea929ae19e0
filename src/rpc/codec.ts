/**
 * Codecs turn messages into bytes for byte channels. JSON is the default (any language can speak
 * it); MessagePack is the binary-friendly alternative, negotiated in `$/hello`.
 * Both carry `Uint8Array` values losslessly: MessagePack natively as `bin`, JSON as
 * `{"$bytes": "<base64>"}` (docs/protocol.md).
 */
import { ErrorCodes, PolyplugError } from './errors.js'

export type CodecName = 'json' | 'msgpack'

export interface Codec {
  readonly name: CodecName
  /**
   * One message: its bytes, or parts whose concatenation is the message (JSON with attachments,
   * src/rpc/attachments.ts; sent only to a channel that is `binary`, which writes them at once).
   */
  encode(message: unknown): Uint8Array | Uint8Array[]
  decode(bytes: Uint8Array): unknown
}

/** A codec that always encodes a message as one Uint8Array. */
export interface WholeCodec extends Codec {
  encode(message: unknown): Uint8Array
}

const BYTES_TAG = '$bytes'

interface NodeBufferLike {
  from(data: ArrayBuffer | string, offsetOrEncoding?: number | string, length?: number): Uint8Array & { toString(encoding: string): string }
}
// The core imports nothing from Node; where Node's Buffer exists it is used for speed.
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer

export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

export function base64ToBytes(text: string): Uint8Array {
  if (NodeBuffer) {
    const b = NodeBuffer.from(text, 'base64')
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** True when `value` holds a Uint8Array anywhere; stops at the first one. */
export function containsBytes(value: unknown, depth = 0): boolean {
  if (value instanceof Uint8Array) return true
  if (typeof value !== 'object' || value === null || depth > 256) return false
  if (Array.isArray(value)) return value.some((item) => containsBytes(item, depth + 1))
  for (const key in value) {
    if (containsBytes((value as Record<string, unknown>)[key], depth + 1)) return true
  }
  return false
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `value` has been through toJSON already (Buffer's turns it into {type, data}); read the original.
  const original = this[key]
  if (original instanceof Uint8Array) return { [BYTES_TAG]: bytesToBase64(original) }
  return value
}

function reviver(_key: string, value: unknown): unknown {
  return reviveBytes(value)
}

/** The bytes a `{"$bytes": "<base64>"}` object stands for; any other value as it is. */
export function reviveBytes(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const tagged = (value as Record<string, unknown>)[BYTES_TAG]
    if (typeof tagged === 'string' && Object.keys(value).length === 1) return base64ToBytes(tagged)
  }
  return value
}

/** JSON text with the `$bytes` convention; the replacer and reviver run only when needed. */
export function stringify(message: unknown): string {
  return containsBytes(message) ? JSON.stringify(message, replacer) : JSON.stringify(message)
}

export function parse(text: string): unknown {
  return text.includes(`"${BYTES_TAG}"`) ? JSON.parse(text, reviver) : JSON.parse(text)
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export const jsonCodec: WholeCodec = {
  name: 'json',
  encode: (message) => encoder.encode(stringify(message)),
  decode(bytes) {
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.PARSE_ERROR, 'message is not valid UTF-8', { cause })
    }
    try {
      return parse(text)
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.PARSE_ERROR, `message is not valid JSON: ${(cause as Error).message}`, { cause })
    }
  },
}

/** True when `value` nests objects or arrays deeper than `max` levels. */
export function exceedsDepth(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return false
  if (max <= 0) return true
  if (Array.isArray(value)) {
    // A plain loop: `some` with a closure cost an allocation per array on every message received.
    for (let i = 0; i < value.length; i++) if (exceedsDepth(value[i], max - 1)) return true
    return false
  }
  for (const key in value) {
    if (exceedsDepth((value as Record<string, unknown>)[key], max - 1)) return true
  }
  return false
}
