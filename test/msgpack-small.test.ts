/**
 * A small call's MessagePack by hand (src/rpc/msgpack-small.ts): exactly msgpackr's bytes and
 * values for the flat envelopes it covers, and msgpackr's own path (its bytes, its values, its
 * errors) for everything else — the edge between the two checked value by value.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Packr } from 'msgpackr'
import { msgpackCodec } from '../src/rpc/msgpack.js'
import { NOT_SMALL, packSmall, unpackSmall } from '../src/rpc/msgpack-small.js'
import { RpcErrorCodes } from '../src/rpc/errors.js'

// polyplug's options (src/rpc/msgpack.ts), as an oracle of its own.
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true, mapsAsObjects: true })

const INTEGERS = [0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -0]
const STRINGS = ['', 'a', '2.0', 'echo', 'jsonrpc', 'x'.repeat(31), 'méthod-not-covered-but-short', '$/hello']

/** Messages the hand path writes and reads. */
const COVERED: Record<string, unknown>[] = [
  { jsonrpc: '2.0', id: 1, method: 'echo', params: [1] },
  { jsonrpc: '2.0', id: 1, method: 'echo' },
  { jsonrpc: '2.0', id: 70000, result: 'ok' },
  { jsonrpc: '2.0', id: 3, result: null },
  { jsonrpc: '2.0', id: 3, result: [] },
  { jsonrpc: '2.0', method: 'note', params: [true, false, null, 'x', -5] },
  { a: 1, b: 'x'.repeat(31), c: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] },
  {},
  ...INTEGERS.map((n) => ({ jsonrpc: '2.0', id: n, result: n, params: [n, n] })),
  ...STRINGS.filter((s) => [...s].every((c) => c.charCodeAt(0) < 0x80)).map((s) => ({ jsonrpc: '2.0', id: 2, method: s, params: [s] })),
]

/** Messages it leaves to msgpackr: each one outside the subset by one thing. */
const NOT_COVERED: unknown[] = [
  { jsonrpc: '2.0', id: 1, method: 'echo', params: [1.5] }, // a float
  { jsonrpc: '2.0', id: 2 ** 32, result: 1 }, // beyond 32 bits
  { jsonrpc: '2.0', id: 1, result: { nested: 1 } }, // nesting
  { jsonrpc: '2.0', id: 1, result: [[1]] },
  { jsonrpc: '2.0', id: 1, method: 'méthode' }, // non-ASCII
  { jsonrpc: '2.0', id: 1, method: 'x'.repeat(32) }, // longer than a fixstr
  { jsonrpc: '2.0', id: 1, result: new Uint8Array([1, 2]) }, // bytes
  { jsonrpc: '2.0', id: 1, result: undefined }, // undefined
  { jsonrpc: '2.0', id: 1, params: Array.from({ length: 16 }, (_, i) => i) }, // 16 elements
  Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])), // 16 keys
  Object.assign(Object.create(null) as object, { jsonrpc: '2.0', id: 1 }), // no prototype
  [1, 2, 3], // not a map
  'text',
  7,
  null,
]

describe('small MessagePack messages by hand', () => {
  it('writes exactly the bytes msgpackr writes, for every message it covers', () => {
    for (const message of COVERED) {
      const small = packSmall(message)
      assert.ok(small, `covered: ${JSON.stringify(message)}`)
      assert.deepEqual(Buffer.from(small), Buffer.from(packr.pack(message)), JSON.stringify(message))
      assert.deepEqual(Buffer.from(msgpackCodec.encode(message) as Uint8Array), Buffer.from(packr.pack(message)))
    }
  })

  it('reads exactly the value msgpackr reads, for every message it covers', () => {
    for (const message of COVERED) {
      const bytes = packr.pack(message)
      const small = unpackSmall(bytes)
      assert.notEqual(small, NOT_SMALL, JSON.stringify(message))
      assert.deepEqual(small, packr.unpack(bytes))
      assert.deepEqual(Object.keys(small as object), Object.keys(packr.unpack(bytes) as object), 'keys in wire order')
    }
  })

  it('reads what other encoders write: a fixmap, and integers wider than they need', () => {
    // The C plugin's answer: fixmap, its request id as it came (uint16 for a small id).
    const bytes = Uint8Array.from([0x83, 0xa7, ...Buffer.from('jsonrpc'), 0xa3, ...Buffer.from('2.0'), 0xa2, ...Buffer.from('id'), 0xcd, 0, 5, 0xa6, ...Buffer.from('result'), 0xd0, 0xff])
    assert.deepEqual(unpackSmall(bytes), { jsonrpc: '2.0', id: 5, result: -1 })
    assert.deepEqual(unpackSmall(bytes), packr.unpack(bytes))
  })

  it('leaves every other message to msgpackr, which writes and reads it as before', () => {
    for (const message of NOT_COVERED) {
      assert.equal(packSmall(message), undefined, `not covered: ${String(JSON.stringify(message))}`)
      const bytes = packr.pack(message)
      assert.deepEqual(msgpackCodec.decode(bytes), packr.unpack(bytes))
    }
    // The bytes of those it reads too (undefined was written as nil) are read as msgpackr reads them.
    for (const message of NOT_COVERED) {
      const bytes = packr.pack(message)
      const small = unpackSmall(bytes)
      if (small !== NOT_SMALL) assert.deepEqual(small, packr.unpack(bytes))
    }
    // A byte msgpackr gives a meaning of its own (0xc1) is its to read.
    const c1 = Uint8Array.from([0x81, 0xa1, 0x61, 0xc1])
    assert.equal(unpackSmall(c1), NOT_SMALL)
    assert.deepEqual(msgpackCodec.decode(c1), packr.unpack(c1))
  })

  it('leaves a message with trailing, missing or unknown bytes to msgpackr, whose error is a PARSE_ERROR', () => {
    const good = packr.pack({ jsonrpc: '2.0', id: 1, result: 1 })
    const cases = [
      Buffer.concat([good, Buffer.from([0x01])]), // a byte after the message
      good.subarray(0, good.byteLength - 1), // cut short
      Uint8Array.from([0x81, 0xa1, 0x61, 0xcc]), // a uint8 without its byte
      Uint8Array.from([0x81, 0xa1]), // a key cut short
      Uint8Array.from([]),
    ]
    for (const bytes of cases) {
      assert.equal(unpackSmall(bytes), NOT_SMALL, Buffer.from(bytes).toString('hex'))
      assert.throws(() => msgpackCodec.decode(bytes), { code: RpcErrorCodes.PARSE_ERROR })
    }
  })

  it('renames a __proto__ key as msgpackr does, by leaving it to msgpackr', () => {
    const bytes = Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x01])
    assert.equal(unpackSmall(bytes), NOT_SMALL)
    assert.deepEqual(Object.keys(msgpackCodec.decode(bytes) as object), ['__proto_'])
  })

  it('hands out messages that stay as they were while later ones are packed', () => {
    const first = packSmall({ jsonrpc: '2.0', id: 1, result: 'first' })!
    const copy = Buffer.from(first)
    for (let i = 0; i < 20_000; i++) packSmall({ jsonrpc: '2.0', id: i, method: 'm', params: [i] }) // past several slabs
    assert.deepEqual(Buffer.from(first), copy)
  })
})
