/**
 * JSON of scalar values without the engine's JSON built-ins, for the wasm kind's calls: a call into
 * `JSON.stringify` or `JSON.parse` costs more than the text of `[1]` or `"ok"` is worth
 * (docs/performance.md, wasm inline). Both functions give exactly what the built-ins give, or
 * undefined, and the caller then takes the built-in's path:
 * - `scalarsJson` is the JSON text of an array of numbers, booleans, nulls and short strings that
 *   need no escape (JSON.stringify's text, byte for byte); undefined for anything else;
 * - `scalarAt` reads an integer of up to 15 digits, `true`, `false` or `null` from UTF-8 bytes
 *   (what JSON.parse reads from that text); undefined (not the value undefined: NOT_SCALAR) for
 *   anything else, including text with whitespace, fractions, exponents or a leading zero.
 */

/** Strings longer than this go to JSON.stringify (the check is a loop over the string). */
const STRING_MAX = 48

/** `scalarAt`'s answer when the bytes are not one of the scalars it reads. */
export const NOT_SCALAR: unique symbol = Symbol('not a scalar')

/** The JSON text of `value` when it is a string that JSON writes between quotes as it is. */
function plainString(value: string): string | undefined {
  if (value.length > STRING_MAX) return undefined
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    // Control characters, '"' and '\\' are escaped by JSON; non-ASCII is left to Buffer's UTF-8.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return undefined
  }
  return `"${value}"`
}

/** JSON.stringify(params) when every element is a number, boolean, null or plain short string; else undefined. */
export function scalarsJson(params: readonly unknown[]): string | undefined {
  let text = '['
  for (let i = 0; i < params.length; i++) {
    const value = params[i]
    let item: string | undefined
    if (typeof value === 'number') item = Number.isFinite(value) ? String(value) : 'null'
    else if (typeof value === 'string') item = plainString(value)
    else if (typeof value === 'boolean') item = value ? 'true' : 'false'
    else if (value === null) item = 'null'
    if (item === undefined) return undefined
    text += i === 0 ? item : `,${item}`
  }
  return `${text}]`
}

/** Whether `len` bytes at `at` spell `word` (ASCII). */
function spells(bytes: Uint8Array, at: number, len: number, word: string): boolean {
  if (len !== word.length) return false
  for (let i = 0; i < len; i++) if (bytes[at + i] !== word.charCodeAt(i)) return false
  return true
}

/** The value of the JSON text in `len` bytes at `at` when it is a short integer, true, false or null; else NOT_SCALAR. */
export function scalarAt(bytes: Uint8Array, at: number, len: number): number | boolean | null | typeof NOT_SCALAR {
  if (len === 0 || len > 16) return NOT_SCALAR
  const first = bytes[at]!
  if (first === 0x74) return spells(bytes, at, len, 'true') ? true : NOT_SCALAR
  if (first === 0x66) return spells(bytes, at, len, 'false') ? false : NOT_SCALAR
  if (first === 0x6e) return spells(bytes, at, len, 'null') ? null : NOT_SCALAR
  const negative = first === 0x2d
  const start = negative ? at + 1 : at
  const end = at + len
  const digits = end - start
  // JSON: at least one digit, no leading zero (but "0" and "-0"); at most 15 digits stay exact in a double.
  if (digits === 0 || digits > 15 || (bytes[start] === 0x30 && digits > 1)) return NOT_SCALAR
  let n = 0
  for (let i = start; i < end; i++) {
    const d = bytes[i]! - 0x30
    if (d < 0 || d > 9) return NOT_SCALAR
    n = n * 10 + d
  }
  return negative ? -n : n
}
