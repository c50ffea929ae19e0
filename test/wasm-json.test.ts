/**
 * Scalars to and from JSON text without the engine's built-ins (src/kinds/wasm-json.ts): whatever
 * they answer must be exactly what JSON.stringify and JSON.parse give, and what they do not read
 * they must leave to the built-ins (undefined, NOT_SCALAR) — JSON.stringify and JSON.parse are the
 * oracle for every value here.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { NOT_SCALAR, scalarAt, scalarsJson } from '../src/kinds/wasm-json.js'

const ascii = (text: string) => Buffer.from(text, 'latin1')

/** A deterministic stream of doubles of every size and sign (xorshift), for the oracle checks. */
function* doubles(count: number): Generator<number> {
  let x = 0x2545f491
  const f64 = new Float64Array(1)
  const u32 = new Uint32Array(f64.buffer)
  for (let i = 0; i < count; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    u32[0] = x >>> 0
    u32[1] = (x * 2654435761) >>> 0
    yield f64[0]! // any bit pattern: NaN, subnormals, huge and tiny values included
    yield (x >>> 0) % 10 ** ((i % 16) + 1) * (i % 2 ? -1 : 1) // integers of 1 to 16 digits
    yield ((x >>> 0) / 7) * (i % 3 ? 1 : -1e-9)
  }
}

describe('scalarsJson: the JSON text of an argument array of scalars', () => {
  it('is JSON.stringify’s text, byte for byte, for numbers, booleans, null and plain strings', () => {
    const arrays: unknown[][] = [
      [],
      [1],
      [0, -0, 1.5, -2.25, 1e21, 1e-7, 123456789012345680000, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2],
      [NaN, Infinity, -Infinity],
      [true, false, null],
      ['', 'a', 'hello world', '~!#$%&\'()*+,-./:;<=>?@[]^_`{|}', 'x'.repeat(48)],
      [1, 'two', true, null, 3.5],
    ]
    for (const params of arrays) assert.equal(scalarsJson(params), JSON.stringify(params), JSON.stringify(params))
    for (const n of doubles(3000)) assert.equal(scalarsJson([n]), JSON.stringify([n]), String(n))
  })

  it('leaves everything else to JSON.stringify: objects, bytes, escapes, non-ASCII, long strings, undefined', () => {
    for (const params of [
      [{}],
      [[1]],
      [new Uint8Array([1])],
      ['a"b'],
      ['a\\b'],
      ['line\n'],
      ['\u001f'],
      ['\u007f'],
      ['é'],
      ['x'.repeat(49)],
      [undefined],
      [1, () => 1],
      [1n],
      [Symbol('s')],
      [new Date(0)],
      [Object(1)],
    ] as unknown[][]) {
      assert.equal(scalarsJson(params), undefined, String(params[0]))
    }
  })
})

describe('scalarAt: a scalar read from JSON text', () => {
  it('is JSON.parse’s value for short integers, true, false and null', () => {
    const texts = ['0', '-0', '1', '-1', '42', '999999999999999', '-999999999999999', '100000000000000', 'true', 'false', 'null']
    for (const text of texts) {
      const value = scalarAt(ascii(text), 0, text.length)
      assert.ok(Object.is(value, JSON.parse(text)), text)
    }
    for (const n of doubles(3000)) {
      const text = JSON.stringify(n)
      const value = scalarAt(ascii(text), 0, text.length)
      if (value !== NOT_SCALAR) assert.ok(Object.is(value, JSON.parse(text)), text)
    }
  })

  it('reads only its own bytes, wherever they lie', () => {
    const bytes = ascii('xx-1234yy')
    assert.equal(scalarAt(bytes, 2, 5), -1234)
    assert.equal(scalarAt(bytes, 3, 2), 12)
    assert.equal(scalarAt(ascii('truex'), 0, 4), true)
  })

  it('leaves to JSON.parse what it does not read exactly: whitespace, fractions, exponents, 16 digits and more, and text that is not JSON', () => {
    const texts = [' 1', '1 ', '1.5', '1e3', '-1E3', '1234567890123456', '9007199254740993', '01', '-01', '00', '-', '+1', '', 'tru', 'truth', 'nul', 'False', '"1"', '[1]', '1a', '0x1', 'NaN', 'Infinity']
    for (const text of texts) assert.equal(scalarAt(ascii(text), 0, text.length), NOT_SCALAR, JSON.stringify(text))
  })
})
