/**
 * Codecs turn messages into bytes for byte channels. JSON is the default (any language can speak
 * it); MessagePack is the binary-friendly alternative, negotiated in `$/hello`.
 * Both carry `Uint8Array` values losslessly: MessagePack natively as `bin`, JSON as
 * `{"$bytes": "<base64>"}` (docs/protocol.md), through the one bytes codec in ./bytes.ts.
 */
import { bytesToJson, jsonToBytes } from './bytes.js'
import { RpcErrorCodes, PolyplugError } from './errors.js'

export type CodecName = 'json' | 'msgpack'

export interface Codec {
  readonly name: CodecName
  encode(message: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

/** JSON text with the `$bytes` convention (src/rpc/bytes.ts). */
export const stringify: (message: unknown) => string = bytesToJson

/** Parses JSON text, reviving `$bytes` tags. */
export const parse: (text: string) => unknown = jsonToBytes

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export const jsonCodec: Codec = {
  name: 'json',
  encode: (message) => encoder.encode(stringify(message)),
  decode(bytes) {
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch (cause) {
      throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, 'message is not valid UTF-8', { cause })
    }
    try {
      return parse(text)
    } catch (cause) {
      throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `message is not valid JSON: ${(cause as Error).message}`, { cause })
    }
  },
}

/** True when `value` nests objects or arrays deeper than `max` levels. */
export function exceedsDepth(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return false
  if (max <= 0) return true
  if (Array.isArray(value)) return value.some((item) => exceedsDepth(item, max - 1))
  for (const key in value) {
    if (exceedsDepth((value as Record<string, unknown>)[key], max - 1)) return true
  }
  return false
}
