/**
 * Streams in the RPC core (docs/protocol.md §7.1), peer to peer over every encoding: results and
 * arguments as AsyncIterables, credit-based flow control, cancellation, errors, deadlines, and
 * the channel closing under an open stream.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryPair } from '../src/channels/memory.js'
import type { Carries } from '../src/channels/channel.js'
import { jsonCodec, type Codec } from '../src/rpc/codec.js'
import { msgpackCodec } from '../src/rpc/msgpack.js'
import { Peer } from '../src/rpc/peer.js'
import { PolyplugError } from '../src/rpc/errors.js'
import type { CallContext } from '../src/rpc/types.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'
import { within } from './support/wait.js'

/** A producer whose progress the test can observe. */
function counter() {
  const state = { yielded: 0, finalized: false, aborted: false }
  const api = {
    async *count(n: number, failAt: number | undefined, ctx: CallContext) {
      ctx.signal.addEventListener('abort', () => (state.aborted = true))
      try {
        for (let i = 0; i < n; i++) {
          if (i === failAt) throw new PolyplugError('E_STREAM', `failed at ${i}`, { data: { at: i } })
          state.yielded++
          yield i
        }
      } finally {
        state.finalized = true
      }
    },
    async sum(items: AsyncIterable<number | Uint8Array>) {
      let total = 0
      for await (const item of items) total += item instanceof Uint8Array ? item.byteLength : item
      return total
    },
    async firstOf(items: AsyncIterable<number>) {
      for await (const item of items) return item
      return null
    },
    async *double(items: AsyncIterable<number>) {
      for await (const item of items) yield item * 2
    },
    async *chunks(n: number, size: number) {
      for (let i = 0; i < n; i++) yield new Uint8Array(size).fill(i & 255)
    },
    async *stall() {
      yield 1
      await new Promise(() => {})
    },
    ignore(_items: AsyncIterable<number>) {
      return 'ignored'
    },
  }
  return { state, api }
}

function pair(carries: Carries, codec?: Codec) {
  const [a, b] = createMemoryPair({ carries })
  const client = new Peer(a, { name: 'client', ...(codec ? { codec } : {}) })
  const server = new Peer(b, { name: 'streamer', ...(codec ? { codec } : {}) })
  const { state, api } = counter()
  server.expose(api)
  return { client, server, state, a, b }
}

async function* numbers(n: number, seen?: { pulled: number; closed: boolean }) {
  try {
    for (let i = 1; i <= n; i++) {
      if (seen) seen.pulled++
      yield i
    }
  } finally {
    if (seen) seen.closed = true
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

const encodings: { label: string; carries: Carries; codec?: Codec }[] = [
  { label: 'structured clone', carries: 'structured-clone' },
  { label: 'json bytes', carries: 'bytes', codec: jsonCodec },
  { label: 'msgpack bytes', carries: 'bytes', codec: msgpackCodec },
  { label: 'json text', carries: 'text' },
]

for (const { label, carries, codec } of encodings) {
  describe(`streams over a peer (${label})`, () => {
    it('a method returning an async generator streams its items to for await', async () => {
      const { client } = pair(carries, codec)
      const stream = await client.call<AsyncIterable<number>>('count', [5])
      assert.deepEqual(await collect(stream), [0, 1, 2, 3, 4])
      assert.equal(client.streamCount, 0)
    })

    it('a typed proxy iterates a stream without awaiting it first', async () => {
      const { client } = pair(carries, codec)
      const api = client.proxy<ReturnType<typeof counter>['api']>()
      const seen: number[] = []
      for await (const n of api.count(3, undefined)) seen.push(n)
      assert.deepEqual(seen, [0, 1, 2])
    })

    it('a stream passed as an argument is consumed by the other side', async () => {
      const { client, server } = pair(carries, codec)
      assert.equal(await client.call('sum', [numbers(100)]), 5050)
      assert.equal(client.streamCount + server.streamCount, 0)
    })

    it('bytes chunks arrive as Uint8Array, in both directions', async () => {
      const { client } = pair(carries, codec)
      const chunks = await collect(await client.call<AsyncIterable<Uint8Array>>('chunks', [4, 100_000]))
      assert.equal(chunks.length, 4)
      chunks.forEach((chunk, i) => {
        assert.ok(chunk instanceof Uint8Array)
        assert.equal(chunk.byteLength, 100_000)
        assert.equal(chunk[99_999], i)
      })
      async function* up() {
        for (let i = 0; i < 3; i++) yield new Uint8Array(70_000)
      }
      assert.equal(await client.call('sum', [up()]), 210_000)
    })

    it('a stream can be transformed: a stream in, a stream out', async () => {
      const { client, server } = pair(carries, codec)
      assert.deepEqual(await collect(await client.call<AsyncIterable<number>>('double', [numbers(4)])), [2, 4, 6, 8])
      await until(() => client.streamCount + server.streamCount === 0)
    })

    it('break cancels the producer: its finally runs and its call signal aborts', async () => {
      const { client, state } = pair(carries, codec)
      for await (const n of await client.call<AsyncIterable<number>>('count', [1_000_000])) {
        if (n === 2) break
      }
      await until(() => state.finalized && state.aborted)
      assert.ok(state.yielded < 100, `producer stopped early (yielded ${state.yielded})`)
    })

    it('the producer pulls no further than the window ahead of a consumer that stops reading', async () => {
      const { client, state } = pair(carries, codec)
      const stream = await client.call<AsyncIterableIterator<number>>('count', [1_000_000], { window: 4 })
      await stream.next()
      // Everything the producer could send is in the consumer's buffer once more round trips are done.
      for (let i = 0; i < 20; i++) await client.call('count', [0]).then((s) => collect(s as AsyncIterable<number>))
      assert.ok(state.yielded <= 1 + 4 + 1, `yielded ${state.yielded} with a window of 4`)
      await stream.return!()
    })

    it('an argument stream is pulled only as fast as the callee consumes it, and closed when the call ends', async () => {
      const { client } = pair(carries, codec)
      const seen = { pulled: 0, closed: false }
      assert.equal(await client.call('firstOf', [numbers(1_000_000, seen)]), 1)
      await until(() => seen.closed)
      assert.ok(seen.pulled <= 1 + 16 + 1, `pulled ${seen.pulled}`)
      const ignored = { pulled: 0, closed: false }
      assert.equal(await client.call('ignore', [numbers(10, ignored)]), 'ignored')
      await until(() => client.streamCount === 0)
      assert.equal(ignored.pulled, 0)
    })

    it('a producer error ends the loop with the typed error, naming plugin and method', async () => {
      const { client } = pair(carries, codec)
      const seen: number[] = []
      const loop = (async () => {
        for await (const n of await client.call<AsyncIterable<number>>('count', [10, 3])) seen.push(n)
      })()
      const error = await rejectsWithCode(loop, 'E_STREAM')
      assert.deepEqual(seen, [0, 1, 2])
      assert.deepEqual(error.data, { at: 3 })
      assert.equal(error.plugin, 'streamer')
      assert.equal(error.method, 'count')
    })

    it('an argument stream that fails ends the callee loop with the typed error, which the caller gets back', async () => {
      const { client } = pair(carries, codec)
      async function* failing() {
        yield 1
        throw new PolyplugError('E_SOURCE', 'source broke')
      }
      await rejectsWithCode(client.call('sum', [failing()]), 'E_SOURCE')
    })

    it('the channel closing ends every open stream with its reason', async () => {
      const { client, b } = pair(carries, codec)
      const stream = await client.call<AsyncIterableIterator<number>>('count', [1_000_000], { window: 2 })
      await stream.next()
      const pending = stream.next().then(() => stream.next()).then(() => stream.next())
      await b.close(new PolyplugError('PLUGIN_CRASHED', 'plugin died', { data: { exitCode: 70 } }))
      const error = await rejectsWithCode(pending, 'CHANNEL_CLOSED')
      assert.equal(error.method, 'count')
      assert.equal(client.streamCount, 0)
    })

    it('a deadline per item ends a stalled stream with RPC_TIMEOUT and cancels the producer', async () => {
      const { client } = pair(carries, codec)
      const stream = await client.call<AsyncIterableIterator<number>>('stall', [], { timeout: 100 })
      assert.deepEqual(await stream.next(), { value: 1, done: false })
      await rejectsWithCode(stream.next(), 'RPC_TIMEOUT')
      assert.deepEqual(await stream.next(), { value: undefined, done: true })
    })

    it('a deadline for the whole stream ends it even while items keep coming', async () => {
      const { client } = pair(carries, codec)
      const loop = (async () => {
        for await (const _ of await client.call<AsyncIterable<number>>('count', [1e9], { timeout: 150, timeoutCovers: 'stream' })) {
          await new Promise((r) => setImmediate(r))
        }
      })()
      // A billion items: without the deadline this would run for hours, so the wait is bounded.
      await rejectsWithCode(within(loop, 'the stream ended by its 150 ms deadline'), 'RPC_TIMEOUT')
    })

    it('aborting the call signal after the stream opened cancels it', async () => {
      const { client, state } = pair(carries, codec)
      const controller = new AbortController()
      const stream = await client.call<AsyncIterableIterator<number>>('count', [1e9], { signal: controller.signal })
      await stream.next()
      controller.abort()
      await rejectsWithCode(stream.next().then(() => stream.next()).then(() => stream.next()), 'RPC_CANCELLED')
      await until(() => state.finalized)
    })

    it('a producer that ignores its credit is stopped with STREAM_OVERRUN', async () => {
      const [a, b] = createMemoryPair({ carries })
      const client = new Peer(a, { name: 'client', ...(codec ? { codec } : {}) })
      const rogue = new Peer(b, { name: 'rogue', ...(codec ? { codec } : {}) })
      rogue.handle('flood', () => ({ $stream: 1 }))
      const stream = await client.call<AsyncIterableIterator<number>>('flood', [], { window: 4 })
      const first = stream.next() // grants 4
      for (let i = 0; i < 6; i++) await rogue.notify('$/stream/item', { stream: 1, value: i })
      assert.deepEqual(await first, { value: 0, done: false })
      await rejectsWithCode(stream.next(), 'STREAM_OVERRUN')
    })
  })
}

describe('streams and other calls share the channel', () => {
  it('a consumer that does not read does not block other calls', async () => {
    const { client } = pair('bytes', msgpackCodec)
    const stream = await client.call<AsyncIterableIterator<Uint8Array>>('chunks', [1_000_000, 64 * 1024], { window: 2 })
    await stream.next()
    const results = await Promise.all(Array.from({ length: 50 }, () => client.call('count', [0]).then((s) => collect(s as AsyncIterable<number>))))
    assert.equal(results.length, 50)
    await stream.return!()
  })

  it('a handler that receives a stream argument iterates it with for await (host API direction)', async () => {
    const [a, b] = createMemoryPair({ carries: 'bytes' })
    const host = new Peer(a, { name: 'host' })
    const plugin = new Peer(b, { name: 'plugin' })
    host.handle('host/ticks', (params) => numbers((params as [number])[0]))
    plugin.handle('total', async () => {
      let total = 0
      for await (const n of await plugin.call<AsyncIterable<number>>('host/ticks', [10])) total += n
      return total
    })
    assert.equal(await host.call('total', []), 55)
  })

  it('a plugin passes a stream argument to a host method that consumes it', async () => {
    const [a, b] = createMemoryPair({ carries: 'bytes' })
    const host = new Peer(a, { name: 'host' })
    const plugin = new Peer(b, { name: 'plugin' })
    host.expose({ total: counter().api.sum }, 'host/')
    plugin.handle('upload', () => plugin.call('host/total', [numbers(100)]))
    assert.equal(await host.call('upload', []), 5050)
  })
})
