/**
 * Every channel hands each message to the listeners subscribed when it arrives, in the order they
 * subscribed (src/channels/normalize.ts). A channel with one listener — a Peer's — delivers to it
 * without iterating its set; these tests pin that the one it calls is always the one subscribed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChannelSink } from '../src/channels/channel.js'
import { normalizeChannel } from '../src/channels/normalize.js'

/** A channel whose incoming messages the test pushes synchronously, already past its first delivery microtask. */
async function pushedChannel(): Promise<{ channel: ReturnType<typeof normalizeChannel>; push(message: unknown): void }> {
  let sink!: ChannelSink
  const channel = normalizeChannel({ carries: 'structured-clone', open: (s) => (sink = s), send() {}, close() {} })
  const unsubscribe = channel.onMessage(() => {})
  await Promise.resolve() // the queue of messages that came before anyone listened is drained
  unsubscribe()
  return { channel, push: (message) => sink.message(message) }
}

describe('a channel with one, then two, then one message listener', () => {
  it('delivers each message to the listeners subscribed when it arrives, and to no listener that left', async () => {
    const { channel, push } = await pushedChannel()
    const got: string[] = []
    const offFirst = channel.onMessage((m) => got.push(`first:${m}`))
    push(0)
    offFirst()
    push('nobody')
    const offA = channel.onMessage((m) => got.push(`a:${m}`))
    push(1)
    const offB = channel.onMessage((m) => got.push(`b:${m}`))
    push(2)
    offA()
    push(3)
    offB()
    push(4)
    channel.onMessage((m) => got.push(`c:${m}`))
    push(5)
    assert.deepEqual(got, ['first:0', 'a:1', 'a:2', 'b:2', 'b:3', 'c:5'])
    await channel.close()
  })

  it('delivers a message to a listener its only listener subscribed while it ran, then to both, in order', async () => {
    const { channel, push } = await pushedChannel()
    const got: string[] = []
    let subscribed = false
    channel.onMessage((m) => {
      got.push(`first:${m}`)
      if (subscribed) return
      subscribed = true
      channel.onMessage((n) => got.push(`second:${n}`))
    })
    push(1)
    push(2)
    assert.deepEqual(got, ['first:1', 'second:1', 'first:2', 'second:2'])
    await channel.close()
  })

  it('delivers nothing more once its only listener closed the channel while it ran', async () => {
    const { channel, push } = await pushedChannel()
    const got: unknown[] = []
    channel.onMessage((m) => {
      got.push(m)
      void channel.close()
    })
    push(1)
    push(2)
    assert.deepEqual(got, [1])
  })
})
