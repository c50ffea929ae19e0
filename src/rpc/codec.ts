/**
 * Codecs turn messages into bytes for byte channels. JSON is the default (any language can speak
 * it); MessagePack is the binary-friendly alternative, negotiated in `$/hello`.
 * Both carry `Uint8Array` values losslessly: MessagePack natively as `bin`, JSON as
 * `{"$bytes": "<base64>"}` (docs/protocol.md), through the one bytes codec in ./bytes.ts.
 */
import { bytesToJson, jsonToBytes, utf8Bytes } from './bytes.js'
import { RpcErrorCodes, PolyplugError } from './errors.js'

export type CodecName = 'json' | 'msgpack'

export interface Codec {
  readonly name: CodecName
  /**
   * One message: its bytes, or parts whose concatenation is the message (JSON with attachments,
   * src/rpc/attachments.ts; sent only to a channel that is `binary`, which writes them at once).
   */
  encode(message: unknown): Uint8Array | Uint8Array[]
  decode(bytes: Uint8Array): unknown
  /**
   * The same wire, encoded as parts where that saves copying a payload (MessagePack's large `bin`
   * values, src/rpc/msgpack.ts): what a Peer uses on a `binary` channel, which writes parts at once.
   */
  readonly parts?: Codec
  /**
   * The message as text when this codec's bytes for it are exactly that text's UTF-8 (JSON without
   * attachments), else undefined: what a Peer hands a channel that encodes text into its own
   * buffer (Channel.sendText), so the message is not made into a Uint8Array first.
   */
  text?(message: unknown): string | undefined
}

/** A codec that always encodes a message as one Uint8Array. */
export interface WholeCodec extends Codec {
  encode(message: unknown): Uint8Array
}

export { containsBytes } from './bytes.js'

/** JSON text with the `$bytes` convention (src/rpc/bytes.ts). */
export const stringify: (message: unknown) => string = bytesToJson

/** Parses JSON text, reviving `$bytes` tags. */
export const parse: (text: string) => unknown = jsonToBytes

const decoder = new TextDecoder('utf-8', { fatal: true })

export const jsonCodec: WholeCodec = {
  name: 'json',
  encode: (message) => utf8Bytes(stringify(message)),
  text: stringify,
  decode(bytes) {
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch (cause) {
      throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, 'message is not valid UTF-8', { cause })
    }
    return parseMessage(text)
  },
}

/** Parses a message's JSON text (reviving `$bytes` tags); throws PARSE_ERROR when it is not JSON. */
export function parseMessage(text: string): unknown {
  try {
    return parse(text)
  } catch (cause) {
    throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `message is not valid JSON: ${(cause as Error).message}`, { cause })
  }
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
