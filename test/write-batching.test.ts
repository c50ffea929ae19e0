/**
 * Messages sent in the same tick leave together: a byte-stream channel writes them in one write,
 * a port channel posts them as one array, at the tick's end or, with one call in flight, at the
 * microtask checkpoint (a sync bridge's port: always the tick's end), a WebSocket channel writes the
 * frames after a tick's first in one write — while order, backpressure and per-message failures stay
 * what they were message by message. The tests count writes and posts, never time.
 */
import assert from 'node:assert/strict'
import { PassThrough, Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { MessageChannel } from 'node:worker_threads'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { Peer } from '../src/rpc/peer.js'
import { portChannel, type PortLike } from '../src/transports/port.js'
import { streamChannel } from '../src/transports/stream.js'
import { openSocket, wsChannel } from '../src/transports/ws.js'
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

  it('posts the messages of one tick as one array, and the other end receives them one by one, in order', async () => {
    const { port, posts } = countingPort()
    const host = portChannel(port)
    const plugin = portChannel(port.other)
    const received: unknown[] = []
    plugin.onMessage((m) => received.push(m))
    for (let i = 0; i < 10; i++) void host.send({ n: i })
    assert.equal(posts.length, 0, 'nothing received yet: the tick\'s messages wait for its end')
    await nextTurn()
    await nextTurn()
    assert.equal(posts.length, 1)
    assert.ok(Array.isArray(posts[0]))
    assert.deepEqual(received, Array.from({ length: 10 }, (_, n) => ({ n })))
    await host.close()
    await plugin.close()
  })

  /** How many `process.nextTick` calls `fn` makes, synchronously. */
  function ticksScheduledBy(fn: () => void): number {
    const nextTick = process.nextTick
    let ticks = 0
    process.nextTick = ((...args: Parameters<typeof nextTick>) => {
      ticks++
      return nextTick(...args)
    }) as typeof nextTick
    try {
      fn()
    } finally {
      process.nextTick = nextTick
    }
    return ticks
  }

  /** A port channel pair where the host answers the first message that arrives with `reply` messages; the ticks its sends scheduled and what was posted during them are kept. */
  function replying(reply: number, says: { wholeTicks?: true } = {}) {
    const { port, posts } = countingPort(says)
    const host = portChannel(port)
    const plugin = portChannel(port.other)
    const received: unknown[] = []
    plugin.onMessage((m) => received.push(m))
    const seen = { ticks: -1, postsDuring: -1 }
    host.onMessage(() => {
      if (seen.ticks >= 0) return
      seen.ticks = ticksScheduledBy(() => {
        for (let n = 0; n < reply; n++) void host.send({ n })
      })
      seen.postsDuring = posts.length
    })
    const close = async () => {
      await host.close()
      await plugin.close()
    }
    return { plugin, posts, received, seen, close }
  }

  it('after a lone message arrives, the messages sent in reply leave as one post at the microtask checkpoint: one call in flight schedules no tick', async () => {
    const { plugin, posts, received, seen, close } = replying(3)
    void plugin.send({ call: 1 })
    await until(() => received.length === 3, 0, 'the three messages')
    assert.equal(seen.ticks, 0, 'no process.nextTick scheduled')
    assert.equal(seen.postsDuring, 0, 'the sends of the callback still gather')
    assert.equal(posts.length, 1)
    assert.deepEqual(received, [{ n: 0 }, { n: 1 }, { n: 2 }])
    await close()
  })

  it('after a batch arrives, the messages sent in reply wait for the tick to end and leave as one post (calls in flight in numbers stay in batches)', async () => {
    const { plugin, posts, received, seen, close } = replying(2)
    void plugin.send({ call: 1 })
    void plugin.send({ call: 2 }) // one post of two: one reply of two
    await until(() => received.length === 2, 0, 'the two messages')
    assert.equal(seen.ticks, 1, 'the batch leaves at the end of the tick')
    assert.equal(seen.postsDuring, 0)
    assert.equal(posts.length, 1)
    await close()
  })

  it('posts the whole tick as one array at its end, even after a lone message arrived, on a port that says wholeTicks (a sync bridge wakes once per post)', async () => {
    const { plugin, posts, received, seen, close } = replying(3, { wholeTicks: true })
    void plugin.send({ call: 1 })
    await until(() => received.length === 3, 0, 'the three messages')
    assert.equal(seen.ticks, 1, 'the batch leaves at the end of the tick')
    assert.equal(seen.postsDuring, 0)
    assert.equal(posts.length, 1)
    assert.deepEqual(received, [{ n: 0 }, { n: 1 }, { n: 2 }])
    await close()
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

  it('fails a call whose message would not clone, sent with one call in flight, as one sent with others', async () => {
    const { port1, port2 } = new MessageChannel()
    const host = new Peer(portChannel(port1))
    const plugin = new Peer(portChannel(port2))
    plugin.handle('echo', (params) => (params as unknown[])[0])
    assert.equal(await host.call('echo', [1]), 1, 'a lone answer arrived: the next call leaves at the microtask checkpoint')
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

describe('a WebSocket channel', () => {
  /** A channel to a server that keeps every text frame it receives, and the count of writes its socket was handed (one per write or writev). */
  async function countedChannel(): Promise<{ channel: ReturnType<typeof wsChannel>; writes: () => number; received: string[]; close(): Promise<void> }> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
    await new Promise((resolve) => wss.once('listening', resolve))
    const received: string[] = []
    wss.on('connection', (socket) => socket.on('message', (data) => received.push(String(data))))
    const socket = await openSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
    const stream = (socket as unknown as { _socket: Writable & { _write: Writable['_write']; _writev: NonNullable<Writable['_writev']> } })._socket
    let writes = 0
    const write = stream._write.bind(stream)
    const writev = stream._writev.bind(stream)
    stream._write = (...args) => (writes++, write(...args))
    stream._writev = (...args) => (writes++, writev(...args))
    const channel = wsChannel(socket)
    return {
      channel,
      writes: () => writes,
      received,
      async close() {
        await channel.close()
        await new Promise((resolve) => wss.close(resolve))
      },
    }
  }

  it('writes a lone frame at once, and the frames after the first of a tick in one write at its end, in order', async (t) => {
    const { channel, writes, received, close } = await countedChannel()
    t.after(close)
    void channel.send('{"lone":0}')
    assert.equal(writes(), 1, 'the first frame of a tick is written when it is sent')
    await nextTurn()
    for (let i = 1; i <= 10; i++) void channel.send(`{"n":${i}}`)
    assert.equal(writes(), 2, 'the first frame of this tick is written at once; the rest wait for the tick to end')
    await nextTurn()
    assert.equal(writes(), 3, 'the other nine leave in one write')
    while (received.length < 11) await nextTurn()
    assert.deepEqual(received, ['{"lone":0}', ...Array.from({ length: 10 }, (_, i) => `{"n":${i + 1}}`)])
  })
})
