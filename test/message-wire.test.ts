/**
 * How a self-encoding transport (http, ws) reads a WebSocket frame: a text frame is JSON text
 * whose UTF-8 the WebSocket library validated already, read as a string at once; a binary frame is
 * JSON or JSON with attachments, validated here. Both fail with PARSE_ERROR when malformed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeWithAttachments } from '../src/rpc/attachments.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { decodeFrame, decodeWire } from '../src/transports/message-wire.js'

const parseError = (error: unknown) => error instanceof PolyplugError && error.code === 'PARSE_ERROR'

describe('reading a WebSocket frame', () => {
  it('a text frame is JSON text, its $bytes revived, a leading byte-order mark dropped', () => {
    const text = Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"$bytes":"AAEC"}}')
    assert.deepEqual(decodeFrame(text, false), { jsonrpc: '2.0', id: 1, result: new Uint8Array([0, 1, 2]) })
    assert.deepEqual(decodeFrame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]), false), decodeWire(text))
  })

  it('a text frame that is not JSON fails with PARSE_ERROR, as a binary one does', () => {
    assert.throws(() => decodeFrame(Buffer.from('{"jsonrpc":'), false), parseError)
    assert.throws(() => decodeFrame(Buffer.from('{"jsonrpc":'), true), parseError)
  })

  it('a binary frame is validated as UTF-8 (the WebSocket library validates only text frames) and read in either form', () => {
    assert.throws(() => decodeFrame(Buffer.from([0x7b, 0xff, 0x7d]), true), parseError)
    const message = { jsonrpc: '2.0', method: 'note', params: [new Uint8Array([9, 8, 7])] }
    assert.deepEqual(decodeFrame(Buffer.concat(encodeWithAttachments(message)), true), message)
    assert.deepEqual(decodeFrame(Buffer.from('[1,2]'), true), [1, 2])
  })

  it('a text frame in the attachment layout is read as attachments, as before frames were told apart', () => {
    const message = { jsonrpc: '2.0', method: 'note', params: [new Uint8Array([65, 66])] }
    assert.deepEqual(decodeFrame(Buffer.concat(encodeWithAttachments(message)), false), message)
  })
})
