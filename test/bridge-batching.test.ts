/**
 * A sync bridge's port batches like any port channel (src/kinds/wasm-pump.ts): the host's calls
 * of one tick reach the worker in one post and are handled one by one, each named as the request
 * being dispatched; the plugin's answers of one tick leave in one post; a guest that blocks reads
 * the rest of its batch first, and what the plugin answered before it blocked leaves before it waits.
 * Both ends gather whole ticks (`wholeTicks`), the first message of a tick too, as the bridge's
 * port and the host's waking port (placement/worker.ts) do. Both ends run in this thread over a
 * real MessageChannel (a wait here blocks this thread briefly).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { createWasmPump } from '../src/kinds/wasm-pump.js'
import { Peer } from '../src/rpc/peer.js'
import type { CallContext } from '../src/rpc/types.js'
import { messagesOf } from '../src/rpc/port-envelope.js'
import { portChannel, type PortLike } from '../src/transports/port.js'
import { until, within } from './support/wait.js'

/** The host's side of the bridge, as placement/worker.ts makes it; `unread` leaves the port to the test, to read what was posted to the host. */
function hostPort(port: MessagePort, unread = false): PortLike {
  return {
    wholeTicks: true,
    postMessage: (value) => port.postMessage(value),
    on: (event, listener) => (unread ? undefined : port.on(event, listener)),
    off: (event, listener) => (unread ? undefined : port.off(event, listener)),
    close: () => port.close(),
  }
}

function bridged() {
  const { port1, port2 } = new MessageChannel()
  const wake = new Int32Array(new SharedArrayBuffer(8))
  const pump = createWasmPump(port2, wake, 'bridged')
  const plugin = new Peer(portChannel(pump.port), { name: 'bridged' })
  return { port1, pump, plugin, close: () => plugin.close() }
}

describe('a sync bridge reads and sends batches', () => {
  it("the host's calls of one tick arrive in one post, run one by one as the current request, and are answered in one post", async () => {
    const { port1, pump, plugin, close } = bridged()
    const seen: unknown[] = []
    plugin.handle('whoami', () => {
      seen.push(pump.currentRequest())
      return seen.length
    })
    const posts: unknown[] = []
    port1.on('message', (value) => posts.push(value))
    const host = new Peer(portChannel(hostPort(port1, true)))
    void host.call('whoami').catch(() => {})
    void host.call('whoami').catch(() => {})
    void host.call('whoami').catch(() => {})
    await until(() => posts.length > 0, 0, 'the answers')
    assert.deepEqual(seen, [1, 2, 3], 'each call ran as the request being dispatched')
    assert.equal(posts.length, 1, 'the three answers left in one post')
    assert.deepEqual(
      messagesOf(posts[0]).map((m) => (m as { result: unknown }).result),
      [1, 2, 3],
    )
    port1.close()
    await close()
    await host.close()
  })

  it('a guest that blocks reads the rest of its batch first: a cancel sent with its call reaches it while it waits', async () => {
    const { port1, pump, plugin, close } = bridged()
    let waited: boolean | undefined
    plugin.handle('waits', (_params, context: CallContext) => {
      waited = pump.bridge.wait(10_000, context.signal)
      return waited
    })
    const host = new Peer(portChannel(hostPort(port1)))
    const stop = new AbortController()
    const call = host.call('waits', [], { signal: stop.signal })
    stop.abort() // the request and its $/cancel leave in the same post
    await assert.rejects(call, { code: 'RPC_CANCELLED' })
    await within(until(() => waited !== undefined, 0, 'the wait to end'), 'the wait')
    assert.equal(waited, true, 'the wait ended because the call was cancelled, not after 10 s')
    await close()
    await host.close()
  })

  it('what the plugin answered before its guest blocks leaves before it waits', async () => {
    const { port1, pump, plugin, close } = bridged()
    let before: unknown[] = []
    plugin.handle('quick', () => 'quick answer')
    plugin.handle('blocks', (_params, context: CallContext) => {
      pump.bridge.wait(1, context.signal)
      // The host's port has no listener: what was posted so far can be read off it here.
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) before = [...before, ...messagesOf(m.message)]
      return 'blocked'
    })
    const host = new Peer(portChannel(hostPort(port1, true)))
    void host.call('quick').catch(() => {})
    void host.call('blocks').catch(() => {})
    await until(() => before.length > 0, 0, 'the quick answer')
    assert.deepEqual(before.map((m) => (m as { result: unknown }).result), ['quick answer'])
    port1.close()
    await close()
    await host.close()
  })
})
