/**
 * The MessagePack of a small, flat message written and read by hand: an envelope whose values are
 * scalars (small integers, short ASCII strings, booleans, null) or short arrays of them — every
 * small call's request and answer (`{jsonrpc, id, method, params: [1]}`, `{jsonrpc, id, result}`).
 * msgpackr spends most of a small call's codec work on its general machinery (a buffer check,
 * type dispatch and a string encoder per value, a DataView per buffer read); here the same bytes
 * cost a few comparisons each.
 *
 * Exactly msgpackr's bytes and values, or nothing: `packSmall` returns what `packr.pack` returns
 * (polyplug's options: plain maps as map16, smallest integers, fixstr), `unpackSmall` the value
 * `packr.unpack` returns, and both give up (undefined / NOT_SMALL) on anything outside that subset
 * — nesting, floats, long or non-ASCII strings, a byte they do not know, trailing bytes — so that
 * the caller takes msgpackr's path, errors included (test/msgpack-small.test.ts checks the two
 * against each other).
 */

/** `unpackSmall`'s answer for a message it does not read: the caller unpacks it with msgpackr. */
export const NOT_SMALL: unique symbol = Symbol('not small')

/** Most keys of a map, and elements of an array, written or read here (fixarray's limit). */
const MAX_ITEMS = 15
/** Longest string written or read here, in bytes (fixstr's limit). */
const MAX_STRING = 31
/** Largest message `packSmall` writes: 3 + 15 × (1 + 31 + 1 + 15 × 32) bytes, rounded up. */
const MAX_PACKED = 8192
const SLAB_BYTES = 64 * 1024

/** Packed messages are views into a slab, as msgpackr's are; a new slab once one is nearly full (the old lives while its views do). */
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
let used = 0

/**
 * msgpackr's bytes for `message` when it is a plain object of at most 15 keys whose values are
 * scalars or arrays of at most 15 scalars; else undefined.
 */
export function packSmall(message: unknown): Buffer | undefined {
  if (typeof message !== 'object' || message === null || message.constructor !== Object) return undefined
  if (SLAB_BYTES - used < MAX_PACKED) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
    used = 0
  }
  const start = used
  let at = start + 3 // map16 (msgpackr writes every plain object so): 0xde, then the count
  let count = 0
  const record = message as Record<string, unknown>
  // As msgpackr: `for in`, inherited keys skipped (a loop V8 reads each value of by the enum cache).
  for (const key in record) {
    if (!Object.hasOwn(record, key) || ++count > MAX_ITEMS) return undefined
    at = writeString(key, at)
    if (at < 0) return undefined
    const value = record[key]
    if (typeof value === 'object' && value !== null && value.constructor === Array) at = writeArray(value as unknown[], at)
    else at = writeScalar(value, at)
    if (at < 0) return undefined
  }
  slab[start] = 0xde
  slab[start + 1] = 0
  slab[start + 2] = count
  used = at
  return Buffer.from(slab.buffer, slab.byteOffset + start, at - start)
}

function writeArray(array: unknown[], at: number): number {
  const length = array.length
  if (length > MAX_ITEMS) return -1
  slab[at++] = 0x90 | length
  for (let i = 0; i < length && at >= 0; i++) at = writeScalar(array[i], at)
  return at
}

/** Writes a scalar at `at`; returns the position after it, or -1 for a value msgpackr must write. */
function writeScalar(value: unknown, at: number): number {
  switch (typeof value) {
    case 'number':
      return writeInteger(value, at)
    case 'string':
      return writeString(value, at)
    case 'boolean':
      slab[at] = value ? 0xc3 : 0xc2
      return at + 1
    case 'object':
      if (value !== null) return -1
      slab[at] = 0xc0
      return at + 1
    default:
      return -1 // undefined among others: msgpackr's rules for it are its own
  }
}

/** msgpackr's integer forms (useRecords off: 0–127 as a positive fixint); -1 for anything else. */
function writeInteger(value: number, at: number): number {
  if (value >>> 0 === value) {
    if (value < 0x80) {
      slab[at] = value
      return at + 1
    }
    if (value < 0x100) {
      slab[at] = 0xcc
      slab[at + 1] = value
      return at + 2
    }
    if (value < 0x10000) {
      slab[at] = 0xcd
      slab[at + 1] = value >> 8
      slab[at + 2] = value & 0xff
      return at + 3
    }
    slab[at] = 0xce
    slab.writeUInt32BE(value, at + 1)
    return at + 5
  }
  if (value >> 0 === value) {
    if (value >= -0x20) {
      slab[at] = 0x100 + value
      return at + 1
    }
    if (value >= -0x80) {
      slab[at] = 0xd0
      slab[at + 1] = value + 0x100
      return at + 2
    }
    if (value >= -0x8000) {
      slab[at] = 0xd1
      slab.writeInt16BE(value, at + 1)
      return at + 3
    }
    slab[at] = 0xd2
    slab.writeInt32BE(value, at + 1)
    return at + 5
  }
  return -1
}

/** An ASCII string of at most 31 characters as a fixstr; -1 for any other. */
function writeString(value: string, at: number): number {
  const length = value.length
  if (length > MAX_STRING) return -1
  slab[at++] = 0xa0 | length
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 0x80) return -1
    slab[at++] = c
  }
  return at
}

/** The keys of JSON-RPC, read without making a string each time. */
const KNOWN_KEYS = ['jsonrpc', 'id', 'method', 'params', 'result', 'error', 'traceparent']
const KNOWN_VALUES = ['2.0']

/** Where `unpackSmall` is in the message it reads (one message at a time: nothing in it re-enters). */
let src: Uint8Array = new Uint8Array(0)
let pos = 0
let end = 0

/**
 * The value msgpackr reads from `bytes` when it is a map of at most 15 fixstr keys whose values are
 * scalars or arrays of at most 15 scalars; else NOT_SMALL (nothing is thrown: msgpackr reads it
 * and reports what is wrong with it).
 */
export function unpackSmall(bytes: Uint8Array): unknown {
  end = bytes.byteLength
  if (end < 1) return NOT_SMALL
  src = bytes
  const value = readMap()
  src = EMPTY // not kept alive until the next message
  return value
}

const EMPTY = new Uint8Array(0)

function readMap(): unknown {
  const bytes = src
  const head = bytes[0]!
  let count: number
  if ((head & 0xf0) === 0x80) {
    count = head & 0x0f
    pos = 1
  } else if (head === 0xde && end >= 3 && bytes[1] === 0 && bytes[2]! <= MAX_ITEMS) {
    count = bytes[2]!
    pos = 3
  } else {
    return NOT_SMALL
  }
  for (let i = 0; i < count; i++) {
    const key = readString(KNOWN_KEYS)
    if (key === undefined || key === '__proto__') return NOT_SMALL // msgpackr renames that key
    const value = pos < end && (src[pos]! & 0xf0) === 0x90 ? readArray() : readScalar()
    if (value === NOT_SMALL) return NOT_SMALL
    keys[i] = key
    values[i] = value
  }
  // msgpackr refuses bytes after the value ("end of buffer not reached"): it says so itself.
  if (pos !== end) return NOT_SMALL
  return build(count)
}

/** The keys and values of the map being read. */
const keys: string[] = []
const values: unknown[] = []

/**
 * The object msgpackr makes, keys in the order read. An answer and a request (the known keys
 * in the order every JSON-RPC side writes them) are made as literals: one shape each, where a
 * store per key under a key that varies is a megamorphic store each.
 */
function build(count: number): Record<string, unknown> {
  if (keys[0] === 'jsonrpc' && keys[1] === 'id') {
    if (count === 3 && keys[2] === 'result') return { jsonrpc: values[0], id: values[1], result: values[2] }
    if (count === 4 && keys[2] === 'method' && keys[3] === 'params') return { jsonrpc: values[0], id: values[1], method: values[2], params: values[3] }
  }
  const object: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) object[keys[i]!] = values[i]
  return object
}

function readArray(): unknown {
  const length = src[pos++]! & 0x0f
  const array: unknown[] = []
  for (let i = 0; i < length; i++) {
    const value = readScalar()
    if (value === NOT_SMALL) return NOT_SMALL
    array.push(value)
  }
  return array
}

function readScalar(): unknown {
  if (pos >= end) return NOT_SMALL
  const byte = src[pos]!
  if (byte < 0x80) {
    pos++
    return byte
  }
  if (byte >= 0xe0) {
    pos++
    return byte - 0x100
  }
  if ((byte & 0xe0) === 0xa0) {
    const text = readString(KNOWN_VALUES)
    return text === undefined ? NOT_SMALL : text
  }
  const left = end - pos - 1
  switch (byte) {
    case 0xc0:
      pos++
      return null
    case 0xc2:
      pos++
      return false
    case 0xc3:
      pos++
      return true
    case 0xcc:
      if (left < 1) return NOT_SMALL
      pos += 2
      return src[pos - 1]!
    case 0xcd:
      if (left < 2) return NOT_SMALL
      pos += 3
      return (src[pos - 2]! << 8) | src[pos - 1]!
    case 0xce:
      if (left < 4) return NOT_SMALL
      pos += 5
      return ((src[pos - 4]! << 24) | (src[pos - 3]! << 16) | (src[pos - 2]! << 8) | src[pos - 1]!) >>> 0
    case 0xd0:
      if (left < 1) return NOT_SMALL
      pos += 2
      return (src[pos - 1]! << 24) >> 24
    case 0xd1:
      if (left < 2) return NOT_SMALL
      pos += 3
      return (((src[pos - 2]! << 8) | src[pos - 1]!) << 16) >> 16
    case 0xd2:
      if (left < 4) return NOT_SMALL
      pos += 5
      return (src[pos - 4]! << 24) | (src[pos - 3]! << 16) | (src[pos - 2]! << 8) | src[pos - 1]!
    default:
      return NOT_SMALL
  }
}

/** A fixstr of ASCII bytes at `pos`, taken from `known` when it is one of them; undefined for any other string form. */
function readString(known: readonly string[]): string | undefined {
  if (pos >= end) return undefined
  const head = src[pos]!
  if ((head & 0xe0) !== 0xa0) return undefined
  const length = head & 0x1f
  const from = pos + 1
  const to = from + length
  if (to > end) return undefined
  for (const candidate of known) if (candidate.length === length && sameBytes(candidate, from)) {
    pos = to
    return candidate
  }
  let text = ''
  for (let i = from; i < to; i++) {
    const c = src[i]!
    if (c >= 0x80) return undefined
    text += String.fromCharCode(c)
  }
  pos = to
  return text
}

function sameBytes(text: string, from: number): boolean {
  for (let i = 0; i < text.length; i++) if (src[from + i] !== text.charCodeAt(i)) return false
  return true
}
