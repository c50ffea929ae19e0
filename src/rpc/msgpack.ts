/**
 * MessagePack codec (msgpackr). Records and other msgpackr extensions are off so that plain
 * MessagePack libraries in other languages read every message.
 *
 * Large `bin` values are sent as parts (docs/protocol.md §4.2): `msgpackCodec.parts` encodes the
 * same MessagePack bytes, but hands a large Uint8Array back as its own part instead of copying it
 * into msgpackr's buffer; a `binary` channel writes the parts in one writev. The wire does not
 * change, so nothing is negotiated and every MessagePack peer reads it.
 */
import { addExtension, Packr } from 'msgpackr'
import { containsBytes, encodeBytes } from './bytes.js'
import type { Codec, WholeCodec } from './codec.js'
import { RpcErrorCodes, PolyplugError } from './errors.js'
import { NOT_SMALL, packSmall, unpackSmall } from './msgpack-small.js'

const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true, mapsAsObjects: true })

/** Below this a `bin` is copied into the head: a part of its own costs more than the copy. */
export const PART_MIN_BYTES = 4096

/**
 * A large Uint8Array in the message being packed: msgpackr writes only its `bin` header (through
 * the extension below) and notes where the payload would start; the payload becomes a part.
 */
class Part {
  target: Uint8Array | undefined
  end = 0
  constructor(readonly bytes: Uint8Array) {}
}

// msgpackr requires a type code for an extension that packs; this one never reaches the wire (the
// extension writes a plain `bin` header) and reads as msgpackr reads any unknown type.
const PART_TYPE = 0x50
addExtension({
  Class: Part,
  type: PART_TYPE,
  pack(part: Part, allocateForWrite: (size: number) => { target: Uint8Array; position: number }) {
    const length = part.bytes.byteLength // ≥ PART_MIN_BYTES, so bin 16 or bin 32
    const wide = length >= 0x10000
    const { target, position } = allocateForWrite(wide ? 5 : 3)
    let at = position
    target[at++] = wide ? 0xc6 : 0xc5
    if (wide) {
      target[at++] = length >>> 24
      target[at++] = (length >>> 16) & 0xff
    }
    target[at++] = (length >>> 8) & 0xff
    target[at++] = length & 0xff
    part.target = target
    part.end = at
  },
  unpack() {
    throw new Error(`Unknown extension type ${PART_TYPE}`)
  },
} as unknown as Parameters<typeof addExtension>[0])

function decode(bytes: Uint8Array): unknown {
  // A small call's envelope by hand (msgpack-small.ts); anything else, and every error, is msgpackr's.
  const small = unpackSmall(bytes)
  if (small !== NOT_SMALL) return small
  try {
    return packr.unpack(bytes)
  } catch (cause) {
    throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `message is not valid MessagePack: ${(cause as Error).message}`, { cause })
  }
}

/**
 * The MessagePack of `message` as parts whose concatenation is exactly `packr.pack(message)`:
 * the head up to each large bin's header, the bin's own bytes (not copied), and so on. Received
 * bins are views of the frame already (msgpackr's default), so no payload is copied on either side
 * but by the framing's reassembly.
 */
export function packParts(message: unknown): Uint8Array | Uint8Array[] {
  const small = packSmall(message)
  if (small !== undefined) return small
  if (!containsBytes(message)) return packr.pack(message)
  const parts: Part[] = []
  const value = encodeBytes(message, (bytes) => {
    if (bytes.byteLength < PART_MIN_BYTES) return bytes
    const part = new Part(bytes)
    parts.push(part)
    return part
  })
  if (parts.length === 0) return packr.pack(message)
  const head = packr.pack(value)
  const out: Uint8Array[] = []
  let from = 0
  for (const part of parts) {
    // msgpackr moved the message to a larger buffer after this bin: its offsets are lost, so pack it whole.
    if (part.target?.buffer !== head.buffer) return packr.pack(message)
    const at = part.target.byteOffset + part.end - head.byteOffset
    out.push(head.subarray(from, at), part.bytes)
    from = at
  }
  if (from < head.byteLength) out.push(head.subarray(from))
  return out
}

const partsCodec: Codec = { name: 'msgpack', encode: packParts, decode }

export const msgpackCodec: WholeCodec & { readonly parts: Codec } = {
  name: 'msgpack',
  encode: (message) => packSmall(message) ?? packr.pack(message),
  decode,
  parts: partsCodec,
}
