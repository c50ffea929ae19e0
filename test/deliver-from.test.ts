import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel } from '../src/channels/channel.js'
import { deliverFrom } from '../src/channels/deliver-from.js'
import { createMemoryPair } from '../src/channels/memory.js'
import { normalizeChannel } from '../src/channels/normalize.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { describeChannel } from './support/channel-suite.js'
import { until } from './support/wait.js'

/**
 * A wrapper like the process placement's: sends go through it, its close reason is its own, and
 * messages come from `inner` directly. `closesInner: false` leaves `inner` open when it closes, to
 * show that its close alone stops the messages.
 */
function wrapped(inner: Channel, closesInner = true): { channel: Channel; sent: unknown[]; endWith(error: Error): void } {
  const sent: unknown[] = []
  let end: ((error?: Error) => void) | undefined
  const outer = normalizeChannel({
    carries: inner.carries,
    open(sink) {
      end = (error) => sink.closed(error)
      inner.onClose((error) => sink.closed(error))
    },
    send(message) {
      sent.push(message)
      return inner.send(message)
    },
    close: (reason) => (closesInner ? inner.close(reason) : undefined),
  })
  return { channel: deliverFrom(inner, outer), sent, endWith: (error) => end?.(error) }
}

/** Lets queued microtasks (a channel's first delivery of what it kept) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describeChannel('a wrapper delivering from its inner channel (deliverFrom)', async () => {
  const [host, plugin] = createMemoryPair({ carries: 'bytes' })
  return { host: wrapped(host).channel, plugin }
})

describe('deliverFrom', () => {
  it('sends through the wrapper and delivers what the inner channel receives', async () => {
    const [host, plugin] = createMemoryPair()
    const { channel, sent } = wrapped(host)
    const atHost: unknown[] = []
    const atPlugin: unknown[] = []
    channel.onMessage((m) => atHost.push(m))
    plugin.onMessage((m) => atPlugin.push(m))
    await channel.send('ping')
    await plugin.send('pong')
    await until(() => atHost.length === 1 && atPlugin.length === 1)
    assert.deepEqual(sent, ['ping'])
    assert.deepEqual(atPlugin, ['ping'])
    assert.deepEqual(atHost, ['pong'])
    await channel.close()
  })

  it('keeps what arrives before the first listener, in order, and delivers it once one subscribes', async () => {
    const [host, plugin] = createMemoryPair({ sync: true })
    const { channel } = wrapped(host)
    for (let i = 0; i < 5; i++) await plugin.send(i)
    const received: unknown[] = []
    channel.onMessage((m) => received.push(m))
    await until(() => received.length === 5)
    assert.deepEqual(received, [0, 1, 2, 3, 4])
    await channel.close()
  })

  it('stops delivering when the wrapper closes, even while the inner channel is still open', async () => {
    const [host, plugin] = createMemoryPair({ sync: true })
    const { channel } = wrapped(host, false)
    const received: unknown[] = []
    channel.onMessage((m) => received.push(m))
    await settle()
    await plugin.send('before')
    assert.deepEqual(received, ['before'])
    await channel.close()
    assert.equal(host.closed, false, 'the inner channel stays open in this test')
    await plugin.send('after')
    assert.deepEqual(received, ['before'], 'nothing is delivered after the wrapper closed')
    const late: unknown[] = []
    channel.onMessage((m) => late.push(m))
    await plugin.send('later')
    assert.deepEqual(late, [], 'a listener added after close gets nothing')
    await host.close()
  })

  it('unsubscribes a listener that asks to, and keeps the others', async () => {
    const [host, plugin] = createMemoryPair({ sync: true })
    const { channel } = wrapped(host)
    const first: unknown[] = []
    const second: unknown[] = []
    const off = channel.onMessage((m) => first.push(m))
    channel.onMessage((m) => second.push(m))
    await settle()
    await plugin.send(1)
    off()
    await plugin.send(2)
    assert.deepEqual(first, [1])
    assert.deepEqual(second, [1, 2])
    await channel.close()
  })

  it('reports the wrapper\'s close reason and state, not the inner channel\'s', async () => {
    const [host] = createMemoryPair({ sync: true })
    const { channel, endWith } = wrapped(host, false)
    const reasons: (Error | undefined)[] = []
    channel.onClose((error) => reasons.push(error))
    const crashed = new PolyplugError('PLUGIN_CRASHED', 'plugin process exited (code 3)', { plugin: 'p' })
    endWith(crashed)
    assert.equal(channel.closed, true)
    assert.equal(host.closed, false)
    assert.deepEqual(reasons, [crashed])
    await assert.rejects(Promise.resolve().then(() => channel.send('x')), (error: PolyplugError) => error.code === 'CHANNEL_CLOSED')
    await host.close()
  })
})
