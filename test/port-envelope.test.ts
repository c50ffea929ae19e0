/**
 * The compact form of the Peer's messages between two port channels (src/rpc/port-envelope.ts):
 * each shape comes back with exactly its keys and values, anything else travels as itself, and a
 * plain sender (a sync bridge's port) and a compact one are both read.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Peer } from '../src/rpc/peer.js'
import { carriesOne, compact, expand, isCompact, messagesOf, pack } from '../src/rpc/port-envelope.js'
import { portChannel, type PortLike } from '../src/transports/port.js'

/** What a structured clone makes of `value` (as a post does). */
const cloned = (value: unknown) => structuredClone(value)
const roundTrip = (message: unknown) => {
  const sent = cloned(compact(message))
  return isCompact(sent) ? expand(sent) : sent
}

/** `port`, recording every value posted on it; `unbatched` as a sync bridge's port says. */
function recordingPort(port: MessagePort, posts: unknown[], unbatched = false): PortLike {
  return {
    unbatched,
    postMessage(value) {
      posts.push(value)
      port.postMessage(value)
    },
    on: (event, listener) => port.on(event, listener),
    off: (event, listener) => port.off(event, listener),
    close: () => port.close(),
  }
}

const shapes: Record<string, unknown> = {
  request: { jsonrpc: '2.0', id: 7, method: 'echo', params: [1, { a: [2] }] },
  'request without params': { jsonrpc: '2.0', id: 'x-1', method: '$/ping' },
  'request with a traceparent': { jsonrpc: '2.0', id: 8, method: 'echo', params: { named: true }, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  notification: { jsonrpc: '2.0', method: '$/log', params: { level: 'info', message: 'hi' } },
  'notification without params': { jsonrpc: '2.0', method: 'tick' },
  result: { jsonrpc: '2.0', id: 7, result: { deep: [1, 2, 3] } },
  'null result': { jsonrpc: '2.0', id: 7, result: null },
  error: { jsonrpc: '2.0', id: 9, error: { code: -32601, message: 'no such method', data: { code: 'METHOD_NOT_FOUND' } } },
}

describe('the compact form of a message on a port', () => {
  for (const [name, message] of Object.entries(shapes)) {
    it(`a ${name} travels as a tagged array and comes back with exactly its keys and values`, () => {
      assert.ok(isCompact(compact(message)), 'sent compact')
      const back = roundTrip(message) as Record<string, unknown>
      assert.deepEqual(back, message)
      assert.deepEqual(Object.keys(back).sort(), Object.keys(message as object).sort())
    })
  }

  it('a batch of every shape, and of messages of other shapes, travels as one flat array and comes back in order', () => {
    const batch = [...Object.values(shapes), { n: 1 }, { jsonrpc: '2.0', id: 1, method: 'echo', params: [1], extra: true }]
    const sent = cloned(pack(batch)) as unknown[]
    assert.ok(isCompact(sent))
    assert.equal(sent.length, 3 * 5 + 2 * 4 + 3 * 3 + 2 * 2, 'one flat array: three requests, two notifications, three answers, two messages of other shapes')
    assert.deepEqual(messagesOf(sent), batch)
    assert.deepEqual(messagesOf(cloned(pack([shapes.request]))), [shapes.request], 'a lone message is its compact form')
  })

  it('anything that is not exactly a Peer shape travels as itself', () => {
    const others = [
      { n: 1 },
      { jsonrpc: '2.0', id: 1, method: 'echo', params: [1], extra: true },
      { jsonrpc: '2.0', id: 1, method: 'echo', params: undefined },
      { jsonrpc: '1.0', id: 1, method: 'echo' },
      { jsonrpc: '2.0', id: 1, result: 1, error: { code: 1 } },
      { jsonrpc: '2.0', result: 1 },
      'text',
      42,
      null,
    ]
    for (const value of others) assert.equal(compact(value), value, JSON.stringify(value))
  })

  it('a post carries one message unless it is a packed batch of two or more (how a port channel knows one call is in flight)', () => {
    assert.equal(carriesOne(cloned(pack([shapes.request]))), true, 'a lone compact message')
    assert.equal(carriesOne(cloned(pack([{ n: 1 }]))), true, 'a lone message of another shape')
    assert.equal(carriesOne(shapes.result), true, 'a plain message from an unbatched sender')
    assert.equal(carriesOne(cloned(pack([shapes.request, shapes.result]))), false)
    assert.equal(carriesOne(cloned(pack([{ n: 1 }, { n: 2 }]))), false, 'two messages of other shapes')
  })

  it('an array with an unknown tag is delivered as it came, for the Peer to refuse', () => {
    const odd = [99, 'x']
    assert.equal(expand(odd), odd)
  })

  it('a Peer over a batched port posts compact messages, and a plain (unbatched) sender is still read', async () => {
    const { port1, port2 } = new MessageChannel()
    const posts: unknown[] = []
    const host = new Peer(portChannel(recordingPort(port1, posts)))
    // The plugin side says unbatched, as a sync bridge's port does: it posts plain envelopes.
    const plain: unknown[] = []
    const pluginPort = recordingPort(port2, plain, true)
    const plugin = new Peer(portChannel(pluginPort))
    plugin.handle('add', (params) => (params as number[])[0]! + (params as number[])[1]!)
    assert.deepEqual(await Promise.all([host.call('add', [1, 2]), host.call('add', [3, 4])]), [3, 7])
    assert.ok(posts.length > 0 && posts.every((p) => Array.isArray(p)), 'the host posted compact forms (or batches of them)')
    assert.ok(plain.every((p) => !Array.isArray(p) && (p as { jsonrpc?: string }).jsonrpc === '2.0'), 'the unbatched side posted plain envelopes')
    await host.close()
    await plugin.close()
  })
})
