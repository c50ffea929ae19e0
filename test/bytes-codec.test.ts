/**
 * The one codec for bytes inside JSON values (src/rpc/bytes.ts): what the JSON wire, the wasm,
 * native and Python kinds and the HTTP/MQTT transports all use. Round trips are checked against
 * the plain JSON text a foreign peer would write, and nothing the caller holds is ever changed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BYTES_TAG, bytesToJson, containsBytes, decodeBytes, encodeBytes, jsonToBytes } from '../src/rpc/bytes.js'
import { jsonCodec, parse, stringify } from '../src/rpc/codec.js'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('the bytes codec', () => {
  it('writes Uint8Array as {"$bytes": base64}, exactly the JSON a foreign peer writes', () => {
    const value = { name: 'x', data: bytes(0, 1, 255), list: [bytes(104, 105), 1, 'two'], none: undefined }
    const expected = JSON.stringify({ name: 'x', data: { $bytes: 'AAH/' }, list: [{ $bytes: 'aGk=' }, 1, 'two'] })
    assert.equal(bytesToJson(value), expected)
    assert.equal(stringify(value), expected)
    assert.deepEqual(JSON.parse(new TextDecoder().decode(jsonCodec.encode(value))), JSON.parse(expected))
  })

  it('finds bytes at any depth of arrays and objects, behind primitives and null, and nothing in values without them', () => {
    assert.equal(containsBytes(bytes(1)), true)
    assert.equal(containsBytes(Buffer.from('x')), true)
    assert.equal(containsBytes({ a: 1, b: null, c: 'x', d: [1, null, { e: [true, bytes()] }] }), true)
    assert.equal(containsBytes([null, 2, 'three', [[], {}], [[[bytes(0)]]]]), true)
    assert.equal(containsBytes({ a: 1, b: null, c: 'x', d: [1, null, { e: [true, 'no'] }], f: undefined }), false)
    for (const plain of [null, undefined, 0, '', 'text', true, [], {}]) assert.equal(containsBytes(plain), false)
    let deep: unknown = bytes(1)
    for (let i = 0; i < 300; i++) deep = [deep]
    assert.equal(containsBytes(deep), false, 'deeper than the codec walks, a value is left as it is')
  })

  it('reads the tag back as Uint8Array wherever it sits, and leaves look-alikes alone', () => {
    const text = '[{"$bytes":"AAH/"},{"a":{"$bytes":"aGk="}},{"$bytes":"aGk=","other":1},{"$bytes":7},"$bytes"]'
    const value = jsonToBytes(text) as unknown[]
    assert.deepEqual(value[0], bytes(0, 1, 255))
    assert.ok(value[0] instanceof Uint8Array)
    assert.deepEqual((value[1] as { a: unknown }).a, bytes(104, 105))
    assert.deepEqual(value[2], { $bytes: 'aGk=', other: 1 }, 'a second key makes it an ordinary object')
    assert.deepEqual(value[3], { $bytes: 7 }, 'a non-string tag is an ordinary object')
    assert.equal(value[4], '$bytes')
    assert.deepEqual(parse(text), value)
  })

  it('round-trips any JSON value with bytes through text, with sparse arrays and functions as JSON.stringify writes them', () => {
    // eslint-disable-next-line no-sparse-arrays
    const value = { deep: [[[{ b: bytes(1, 2, 3) }]]], sparse: [, bytes(9)], f: () => 1, date: new Date(0), n: null, t: true }
    const back = jsonToBytes(bytesToJson(value)) as Record<string, unknown>
    assert.deepEqual(back, { deep: [[[{ b: bytes(1, 2, 3) }]]], sparse: [null, bytes(9)], date: '1970-01-01T00:00:00.000Z', n: null, t: true })
  })

  it('never changes the caller’s value: encode and decode copy only the path to a replaced value', () => {
    const shared = { untouched: [1, 2, 3] }
    const input = { data: bytes(1), shared, list: [shared, bytes(2)] }
    const frozen = structuredClone(input)
    const encoded = encodeBytes(input) as typeof input
    assert.deepEqual(input, frozen, 'the input is unchanged')
    assert.ok(input.data instanceof Uint8Array)
    assert.deepEqual(encoded.data, { [BYTES_TAG]: 'AQ==' })
    assert.equal(encoded.shared, shared, 'a part without bytes is shared, not copied')

    const wire = JSON.parse(JSON.stringify(encoded)) as Record<string, unknown>
    const snapshot = structuredClone(wire)
    const decoded = decodeBytes(wire) as typeof input
    assert.deepEqual(wire, snapshot, 'decoding leaves its input as it was')
    assert.deepEqual(decoded, input)
  })

  it('hands back the very same value when there are no bytes (no copy, no walk result to allocate)', () => {
    const value = { a: [1, { b: 'c' }], d: null }
    assert.equal(encodeBytes(value), value)
    assert.equal(decodeBytes(value), value)
    assert.equal(bytesToJson(value), JSON.stringify(value))
  })

  it('takes other representations: a framing that carries bytes beside the message plugs in its own replace and revive', () => {
    const attachments: Uint8Array[] = []
    const value = { a: bytes(1, 2), b: [bytes(3)], c: 'text' }
    const message = encodeBytes(value, (b) => ({ $attachment: attachments.push(b) - 1 }))
    assert.deepEqual(message, { a: { $attachment: 0 }, b: [{ $attachment: 1 }], c: 'text' })
    const revive = (o: Record<string, unknown>) => (typeof o.$attachment === 'number' ? attachments[o.$attachment] : undefined)
    assert.deepEqual(decodeBytes(message, revive), value)
  })

  it('keeps a Buffer’s own bytes, not the whole pool it is a view of', () => {
    const pool = Buffer.from('xxhello worldxx')
    const view = pool.subarray(2, 13)
    assert.deepEqual(jsonToBytes(bytesToJson({ v: view })), { v: new Uint8Array(Buffer.from('hello world')) })
  })
})
