/**
 * The one codec for bytes inside JSON values (docs/protocol.md): a `Uint8Array` travels as
 * `{"$bytes": "<base64>"}`. Every JSON path in polyplug goes through here: the wire's JSON codec,
 * the wasm, native and Python kinds, the HTTP and MQTT transports.
 *
 * Two walks, each visiting a value once and never changing it (objects and arrays on the way to
 * a replaced value are copied, the rest is shared; a value without bytes comes back as itself):
 * - `encodeBytes(value, replace)` puts `replace(bytes)` where each Uint8Array was;
 * - `decodeBytes(value, revive)` puts the bytes `revive(object)` returns where it recognises one.
 * The defaults are the `$bytes` tag; a framing that carries bytes beside the message passes its own.
 * `bytesToJson` is the JSON-text shortcut: base64 is spliced into the text, never escaped by
 * JSON.stringify (which costs more than the base64 itself for large values).
 */

export const BYTES_TAG = '$bytes'

/** Deeper than this, values are left as they are (the Peer refuses such messages before this matters). */
const MAX_DEPTH = 256

interface NodeBufferLike {
  byteLength(text: string, encoding: 'utf8'): number
  from(data: ArrayBuffer | string, offsetOrEncoding?: number | string, length?: number): Uint8Array & { toString(encoding: string): string }
}
// The core imports nothing from Node; where Node's Buffer exists it is used for speed.
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer

const textEncoder = new TextEncoder()

/**
 * UTF-8 bytes of `text`. Node's `Buffer.from` slices small results out of a shared pool, where
 * TextEncoder makes a new ArrayBuffer per call — for a small message the allocation and its
 * collection cost more than the encoding.
 */
export function utf8Bytes(text: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(text, 'utf8') : textEncoder.encode(text)
}

/** The number of bytes `utf8Bytes(text)` would make, without making them where Node's Buffer exists. */
export function utf8Length(text: string): number {
  return NodeBuffer ? NodeBuffer.byteLength(text, 'utf8') : textEncoder.encode(text).byteLength
}

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

/** The default `replace`: the `$bytes` tag object. */
export function bytesTag(bytes: Uint8Array): { [BYTES_TAG]: string } {
  return { [BYTES_TAG]: bytesToBase64(bytes) }
}

/** The default `revive`: the bytes of a `{"$bytes": "<base64>"}` object (that key alone), else undefined. */
export function fromBytesTag(value: Record<string, unknown>): Uint8Array | undefined {
  const tagged = value[BYTES_TAG]
  if (typeof tagged !== 'string') return undefined
  for (const key in value) if (key !== BYTES_TAG) return undefined
  return base64ToBytes(tagged)
}

/**
 * True when `value` holds a Uint8Array anywhere; stops at the first one. This runs on every JSON
 * message sent: plain loops (no `some` with a closure), and a primitive child is passed over
 * without a call (a typical request or answer: ~40 against 65–140 ns).
 */
export function containsBytes(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (value instanceof Uint8Array) return true
  if (depth > MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (typeof item === 'object' && item !== null && containsBytes(item, depth + 1)) return true
    }
    return false
  }
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key]
    if (typeof item === 'object' && item !== null && containsBytes(item, depth + 1)) return true
  }
  return false
}

/** JSON.stringify calls `toJSON` itself (Date, for one): such values are not walked into. */
function isPlain(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON !== 'function'
}

/** `value` with `visit` applied to every element or property; the same array or object when nothing changed. */
function mapChildren(value: object, visit: (child: unknown) => unknown): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const next = visit(value[i])
      if (next !== value[i]) (copy ??= value.slice())[i] = next
    }
    return copy ?? value
  }
  let copy: Record<string, unknown> | undefined
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const next = visit(record[key])
    if (next !== record[key]) (copy ??= { ...record })[key] = next
  }
  return copy ?? value
}

/** `value` with `replace(bytes)` where each Uint8Array was; `value` itself when it holds none. Never mutates. */
export function encodeBytes(value: unknown, replace: (bytes: Uint8Array) => unknown = bytesTag, depth = 0): unknown {
  if (value instanceof Uint8Array) return replace(value)
  if (!isPlain(value) || depth > MAX_DEPTH) return value
  return mapChildren(value, (child) => encodeBytes(child, replace, depth + 1))
}

/** `value` with bytes where `revive` recognised an object (default: the `$bytes` tag); `value` itself when none. Never mutates. */
export function decodeBytes(value: unknown, revive: (value: Record<string, unknown>) => Uint8Array | undefined = fromBytesTag, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || depth > MAX_DEPTH) return value
  if (!Array.isArray(value)) {
    const bytes = revive(value as Record<string, unknown>)
    if (bytes) return bytes
  }
  return mapChildren(value, (child) => decodeBytes(child, revive, depth + 1))
}

/**
 * JSON text of `value` with each Uint8Array as `{"$bytes":"<base64>"}`, spliced in rather than
 * escaped. Parts without bytes take JSON.stringify's own path.
 */
export function bytesToJson(value: unknown): string {
  return containsBytes(value) ? spliced(value, 0) : JSON.stringify(value)
}

function spliced(value: unknown, depth: number): string {
  if (value instanceof Uint8Array) return `{"${BYTES_TAG}":"${bytesToBase64(value)}"}`
  if (!isPlain(value) || depth > MAX_DEPTH || !containsBytes(value)) return JSON.stringify(value) ?? 'null'
  // Built with `+`, not Array#join: join flattens a megabyte of base64 many times slower than `+` ropes it.
  let text = ''
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) text += `${i ? ',' : ''}${spliced(value[i], depth + 1)}`
    return `[${text}]`
  }
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
    text += `${text ? ',' : ''}${JSON.stringify(key)}:${spliced(item, depth + 1)}`
  }
  return `{${text}}`
}

/** Parses JSON text and revives `$bytes` tags; a fresh value, so nothing the caller holds changes. */
export function jsonToBytes(text: string): unknown {
  const value = JSON.parse(text) as unknown
  // A one-character search first: about a third of the cost of the tag's, on every message read.
  return text.indexOf('$') >= 0 && text.includes(`"${BYTES_TAG}"`) ? decodeBytes(value) : value
}
