/**
 * Messages sent in the same tick leave together: a byte-stream channel writes them in one write,
 * a port channel posts the first at once and the ones after it as one array (a sync bridge's port,
 * the whole tick as one array) — while order, backpressure and per-message failures stay what they
 * were message by message. The tests count writes and posts, never time.
 */
import assert from 'node:assert/strict'
import { PassThrough, Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { MessageChannel } from 'node:worker_threads'
import { Peer } from '../src/rpc/peer.js'
import { portChannel, type PortLike } from '../src/transports/port.js'
import { streamChannel } from '../src/transports/stream.js'
import { BATCH_BYTES } from '../src/transports/write-queue.js'
import { FrameDecoder } from '../src/framing/framing.js'
import { until } from './support/wait.js'

/** A writable that records every chunk it is handed, one entry per write (or writev). */
function recordingWritable(): { writable: Writable; writes: Buffer[] } {
  const writes: Buffer[] = []
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk)
      done()
    },
    writev(chunks, done) {
      writes.push(Buffer.concat(chunks.map((c) => c.chunk as Buffer)))
      done()
    },
  })
  return { writable, writes }
}

const bodies = (writes: Buffer[]) => new FrameDecoder('length').push(Buffer.concat(writes)).map((b) => Buffer.from(b).toString())
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('a byte-stream channel', () => {
  it('writes the frames sent in one tick in one write, in order', async () => {
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    for (let i = 0; i < 100; i++) void channel.send(Buffer.from(`message ${i}`))
    assert.equal(writes.length, 0, 'nothing is written before the tick ends')
    await nextTurn()
    assert.equal(writes.length, 1)
    assert.deepEqual(bodies(writes), Array.from({ length: 100 }, (_, i) => `message ${i}`))
    void channel.send(Buffer.from('next tick'))
    await nextTurn()
    assert.equal(writes.length, 2, 'a later tick is a write of its own')
    await channel.close()
  })

  it(`writes a batch at once when it reaches ${BATCH_BYTES} bytes, and a larger frame in its own write without copying it into the batch`, async () => {
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    const quarter = Buffer.alloc(BATCH_BYTES / 4, 1)
    for (let i = 0; i < 4; i++) void channel.send(quarter)
    assert.equal(writes.length, 1, 'four quarters (plus headers) fill a batch, written at once')
    const large = Buffer.alloc(BATCH_BYTES + 1, 2)
    void channel.send(Buffer.from('small, before the large one'))
    void channel.send(large)
    await nextTurn()
    const decoded = new FrameDecoder('length', 1 << 20).push(Buffer.concat(writes))
    assert.equal(decoded.length, 6)
    assert.equal(Buffer.from(decoded[4] as Uint8Array).toString(), 'small, before the large one', 'order is kept across the flush')
    assert.equal(decoded[5]?.byteLength, BATCH_BYTES + 1)
    await channel.close()
  })

  it('copies a small frame when it is sent: the caller may reuse its bytes at once', async () => {
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    const bytes = Buffer.from('original')
    void channel.send(bytes)
    bytes.write('changed!')
    await nextTurn()
    assert.deepEqual(bodies(writes), ['original'])
    await channel.close()
  })

  it('never writes over bytes it already handed to the writable, and writes each tick once even where its buffer fills mid-tick', async () => {
    // The writable keeps every chunk it was handed (no copy), as a socket does while a write is pending.
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    const expected: string[] = []
    const ticks = 40
    for (let t = 0; t < ticks; t++) {
      // 7 frames of 1-9 KiB per tick: about 35 KiB a tick, so the queue's buffer fills inside many ticks.
      for (let i = 0; i < 7; i++) {
        const body = `${t}.${i}:`.padEnd(1024 * (1 + ((t + i) % 9)), String.fromCharCode(97 + ((t * 7 + i) % 26)))
        expected.push(body)
        void channel.send(Buffer.from(body))
      }
      await nextTurn()
      assert.equal(writes.length, t + 1, `tick ${t} is one write`)
    }
    assert.deepEqual(bodies(writes), expected)
    await channel.close()
  })

  it('still writes what the tick gathered when the channel closes in it', async () => {
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    void channel.send(Buffer.from('last words'))
    await channel.close()
    assert.deepEqual(bodies(writes), ['last words'])
  })
})

describe('a port channel', () => {
  function countingPort(says: { unbatched?: true; wholeTicks?: true } = {}): { port: PortLike & { other: MessageChannel['port2'] }; posts: unknown[] } {
    const { port1, port2 } = new MessageChannel()
    const posts: unknown[] = []
    const port = {
      ...says,
      other: port2,
      postMessage(value: unknown) {
        posts.push(value)
        port1.postMessage(value)
      },
      on: (event: 'message' | 'close', listener: (value: unknown) => void) => port1.on(event, listener),
      off: (event: 'message' | 'close', listener: (value: unknown) => void) => port1.off(event, listener),
      close: () => port1.close(),
    }
    return { port, posts }
  }

  it('posts the first message of a tick at once and the ones after it in that tick as one array; the other end receives them one by one, in order', async () => {
    const { port, posts } = countingPort()
    const host = portChannel(port)
    const plugin = portChannel(port.other)
    const received: unknown[] = []
    plugin.onMessage((m) => received.push(m))
    for (let i = 0; i < 10; i++) void host.send({ n: i })
    assert.deepEqual(posts, [{ n: 0 }], 'the first posted during its send, as itself; the rest wait for the tick to end')
    await nextTurn()
    await nextTurn()
    assert.equal(posts.length, 2)
    assert.ok(Array.isArray(posts[1]), 'the nine after it in one array')
    assert.deepEqual(received, Array.from({ length: 10 }, (_, n) => ({ n })))
    await host.close()
    await plugin.close()
  })

  it('posts a lone message during its send, in each callback that sends one: a call and its answer each go at once', async () => {
    const { port, posts } = countingPort()
    const host = portChannel(port)
    const plugin = portChannel(port.other)
    plugin.onMessage((m) => void plugin.send({ answer: m }))
    const answers: unknown[] = []
    host.onMessage((m) => answers.push(m))
    void host.send({ call: 1 })
    assert.deepEqual(posts, [{ call: 1 }], 'posted during the send')
    await until(() => answers.length === 1, 0, 'the answer')
    void host.send({ call: 2 })
    assert.deepEqual(posts, [{ call: 1 }, { call: 2 }], 'the next call, in the callback after its answer arrived, posted during its send too')
    await until(() => answers.length === 2, 0, 'the second answer')
    assert.deepEqual(answers, [{ answer: { call: 1 } }, { answer: { call: 2 } }])
    await host.close()
    await plugin.close()
  })

  it('a side that only sends, tick after tick, posts every other message at once and the others at their tick\'s end', async () => {
    const { port, posts } = countingPort()
    const host = portChannel(port)
    void host.send({ n: 1 })
    assert.equal(posts.length, 1, 'the first at once')
    await nextTurn()
    void host.send({ n: 2 })
    assert.equal(posts.length, 1, 'nothing received since the first went alone: the second waits for its tick to end')
    await nextTurn()
    assert.equal(posts.length, 2)
    void host.send({ n: 3 })
    assert.equal(posts.length, 3, 'its tick ended the batch: the third at once')
    assert.deepEqual(posts, [{ n: 1 }, { n: 2 }, { n: 3 }])
    await host.close()
  })

  it('posts the whole tick as one array, the first message too, on a port that says wholeTicks (a sync bridge wakes once per post)', async () => {
    const { port, posts } = countingPort({ wholeTicks: true })
    const host = portChannel(port)
    const plugin = portChannel(port.other)
    const received: unknown[] = []
    plugin.onMessage((m) => received.push(m))
    for (let i = 0; i < 3; i++) void host.send({ n: i })
    assert.equal(posts.length, 0, 'nothing posted during the sends')
    await until(() => received.length === 3, 0, 'the three messages')
    assert.equal(posts.length, 1)
    assert.deepEqual(received, [{ n: 0 }, { n: 1 }, { n: 2 }])
    await host.close()
    await plugin.close()
  })

  it('posts a lone message as itself, and each message at once on a port that says unbatched (a sync bridge reads it)', async () => {
    const { port, posts } = countingPort()
    const host = portChannel(port)
    void host.send({ alone: true })
    await nextTurn()
    assert.deepEqual(posts, [{ alone: true }])
    const bridged = countingPort({ unbatched: true })
    const toBridge = portChannel(bridged.port)
    void toBridge.send({ n: 1 })
    void toBridge.send({ n: 2 })
    assert.deepEqual(bridged.posts, [{ n: 1 }, { n: 2 }], 'posted during send, one by one')
    await host.close()
    await toBridge.close()
  })

  it('fails only the call whose message would not clone; the calls sent beside it are answered', async () => {
    const { port1, port2 } = new MessageChannel()
    const host = new Peer(portChannel(port1), { name: 'batched' })
    const plugin = new Peer(portChannel(port2))
    plugin.handle('echo', (params) => (params as unknown[])[0])
    const calls = [host.call('echo', [1]), host.call('echo', [() => 'not cloneable']), host.call('echo', [3])]
    const [first, second, third] = await Promise.allSettled(calls)
    assert.deepEqual(first, { status: 'fulfilled', value: 1 })
    assert.equal(second?.status, 'rejected')
    assert.equal((second as PromiseRejectedResult).reason.code, 'INTERNAL_ERROR')
    assert.match((second as PromiseRejectedResult).reason.message, /could not be sent/)
    assert.deepEqual(third, { status: 'fulfilled', value: 3 })
    await host.close()
    await plugin.close()
  })

  it('fails a lone call whose message would not clone, after its send returned, as a batched one', async () => {
    const { port1, port2 } = new MessageChannel()
    const host = new Peer(portChannel(port1))
    const plugin = new Peer(portChannel(port2))
    plugin.handle('echo', (params) => (params as unknown[])[0])
    await assert.rejects(host.call('echo', [() => 'not cloneable']), (error: Error & { code?: string }) => error.code === 'INTERNAL_ERROR' && /could not be sent/.test(error.message))
    assert.equal(await host.call('echo', [2]), 2, 'the channel still carries the next call')
    await host.close()
    await plugin.close()
  })

  it('answers with an error when a result would not clone, as a send that threw at once did', async () => {
    const { port1, port2 } = new MessageChannel()
    const host = new Peer(portChannel(port1))
    const plugin = new Peer(portChannel(port2), { name: 'returns-a-function' })
    plugin.handle('make', () => ({ fn: () => 1 }))
    await assert.rejects(host.call('make'), (error: Error & { code?: string }) => error.code === 'INTERNAL_ERROR' && /could not be sent/.test(error.message))
    await host.close()
    await plugin.close()
  })
})
