/**
 * JSON text written straight into a byte-stream channel's write buffer (Channel.sendText): the
 * bytes on the wire are exactly those of `send` with the text's UTF-8, in every framing, whatever
 * the characters and wherever the buffer fills; and a Peer on such a channel sends its plain JSON
 * messages that way, but a message with bytes in its own encoded form.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { FrameDecoder, type FramingName } from '../src/framing/framing.js'
import type { Channel } from '../src/channels/channel.js'
import { binaryJsonCodec } from '../src/rpc/attachments.js'
import { jsonCodec, type Codec } from '../src/rpc/codec.js'
import { msgpackCodec } from '../src/rpc/msgpack.js'
import { Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { readManifest } from '../src/manifest/load.js'
import { launchProcess } from '../src/placement/process.js'
import { examplesDir } from './support/paths.js'
import { BATCH_BYTES } from '../src/transports/write-queue.js'

function recordingWritable(options: { highWaterMark?: number; hold?: boolean } = {}): { writable: Writable; writes: Buffer[] } {
  const writes: Buffer[] = []
  const writable = new Writable({
    highWaterMark: options.highWaterMark,
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk)
      if (!options.hold) done()
    },
  })
  return { writable, writes }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** What one channel wrote for `messages`, each sent with `send(message)` and `sendText` in turn. */
async function written(framing: FramingName, send: (channel: Channel) => void, maxFrameBytes?: number): Promise<Buffer> {
  const { writable, writes } = recordingWritable()
  const channel = streamChannel(new PassThrough(), writable, { framing, ...(maxFrameBytes ? { maxFrameBytes } : {}) })
  send(channel)
  await nextTurn()
  await channel.close()
  return Buffer.concat(writes)
}

const TEXTS = [
  '{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}',
  '{"text":"déjà vu, 日本語, 🎉"}',
  // A lone surrogate: written as U+FFFD's three bytes, as Buffer.from writes it.
  `{"broken":"${'\ud800'}"}`,
  '',
]

describe('a byte-stream channel given text', () => {
  for (const framing of ['length', 'content-length', 'ndjson'] as const) {
    it(`writes the same bytes as send of its UTF-8 (${framing} framing)`, async () => {
      const texts = framing === 'ndjson' ? TEXTS.filter(Boolean) : TEXTS
      const viaText = await written(framing, (channel) => {
        for (const text of texts) void channel.sendText?.(text)
      })
      const viaBytes = await written(framing, (channel) => {
        for (const text of texts) void channel.send(Buffer.from(text, 'utf8'))
      })
      assert.ok(viaText.byteLength > 0)
      assert.deepEqual(viaText, viaBytes)
    })
  }

  it('writes the texts and byte messages of one tick in one write, in the order they were sent', async () => {
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    const expected: string[] = []
    for (let i = 0; i < 100; i++) {
      const text = `{"n":${i},"é":"${'ü'.repeat(i)}"}`
      expected.push(text)
      if (i % 3 === 0) void channel.send(Buffer.from(text))
      else void channel.sendText?.(text)
    }
    assert.equal(writes.length, 0, 'nothing is written before the tick ends')
    await nextTurn()
    assert.equal(writes.length, 1)
    assert.deepEqual(
      new FrameDecoder('length').push(writes[0] as Buffer).map((body) => Buffer.from(body).toString()),
      expected,
    )
    await channel.close()
  })

  it('starts a fresh buffer for a text that might not fit the rest of the current one, and never writes over bytes handed out', async () => {
    const { writable, writes } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable)
    const expected: string[] = []
    for (let t = 0; t < 12; t++) {
      // About 10 KiB of UTF-8 per text, in 3-byte characters: several per slab, the last one short of room.
      for (let i = 0; i < 3; i++) {
        const text = `${t}.${i}:${'€'.repeat(3300 + t * 7 + i)}`
        expected.push(text)
        void channel.sendText?.(text)
      }
      await nextTurn()
    }
    assert.equal(writes.length, 12, 'one write per tick')
    const bodies = new FrameDecoder('length', 1 << 20).push(Buffer.concat(writes)).map((body) => Buffer.from(body).toString())
    assert.deepEqual(bodies, expected)
    await channel.close()
  })

  it(`sends a text too large for the write buffer (${BATCH_BYTES} bytes) as one frame of its exact bytes`, async () => {
    const large = `{"big":"${'ä'.repeat(BATCH_BYTES)}"}`
    const viaText = await written('length', (channel) => void channel.sendText?.(large), 1 << 20)
    assert.deepEqual(viaText, await written('length', (channel) => void channel.send(Buffer.from(large)), 1 << 20))
    assert.equal(viaText.readUInt32BE(0), Buffer.byteLength(large))
  })

  it('measures a text against the frame limit in bytes: a long ASCII text under it leaves, one over it throws FRAME_TOO_LARGE', async () => {
    const limit = 1000
    // 900 characters: over the limit if every one were 3 bytes, under it as the ASCII it is.
    const ascii = 'a'.repeat(900)
    const viaText = await written('length', (channel) => void channel.sendText?.(ascii), limit)
    assert.equal(viaText.byteLength, 4 + 900)
    const { writable } = recordingWritable()
    const channel = streamChannel(new PassThrough(), writable, { maxFrameBytes: limit })
    assert.throws(() => channel.sendText?.('é'.repeat(600)), { code: 'FRAME_TOO_LARGE' })
    await channel.close()
  })

  it('queues a text behind a writable that pushes back, and sends it in order once it drains', async () => {
    const { writable, writes } = recordingWritable({ highWaterMark: 1, hold: true })
    const channel = streamChannel(new PassThrough(), writable)
    assert.equal(channel.sendText?.('first'), undefined, 'taken at once')
    await nextTurn()
    const waited = channel.sendText?.('second, wäited')
    assert.ok(waited instanceof Promise, 'past the high-water mark a send waits')
    await channel.close()
    await waited
    assert.deepEqual(
      new FrameDecoder('length').push(Buffer.concat(writes)).map((body) => Buffer.from(body).toString()),
      ['first'],
      'what waited when the channel closed went nowhere',
    )
  })

  it('refuses text after the channel closed, with CHANNEL_CLOSED', async () => {
    const channel = streamChannel(new PassThrough(), recordingWritable().writable)
    await channel.close()
    assert.throws(() => channel.sendText?.('late'), { code: 'CHANNEL_CLOSED' })
  })
})

describe('a Peer on a channel that takes text', () => {
  /** A host and a plugin Peer over a pair of stream channels, counting the sends of each kind. */
  function pair(codec: Codec = jsonCodec) {
    const toPlugin = new PassThrough()
    const toHost = new PassThrough()
    const hostChannel = streamChannel(toHost, toPlugin)
    const counts = { text: 0, bytes: 0 }
    const counted: Channel = {
      ...hostChannel,
      carries: hostChannel.carries,
      binary: hostChannel.binary,
      get closed() {
        return hostChannel.closed
      },
      send(message) {
        counts.bytes++
        return hostChannel.send(message)
      },
      sendText(text) {
        counts.text++
        return (hostChannel.sendText as (text: string) => void)(text)
      },
    }
    const host = new Peer(counted, { codec })
    const plugin = new Peer(streamChannel(toPlugin, toHost), { codec })
    plugin.handle('echo', (params) => (params as unknown[])[0])
    return { host, plugin, counts, close: async () => (await host.close(), await plugin.close()) }
  }

  it('sends a plain JSON message as text, and the other side reads it as it read bytes', async () => {
    const { host, counts, close } = pair()
    assert.deepEqual(await host.call('echo', [{ text: 'déjà 🎉', n: [1, 2, 3] }]), { text: 'déjà 🎉', n: [1, 2, 3] })
    assert.deepEqual(counts, { text: 1, bytes: 0 })
    await close()
  })

  it('sends bytes with attachments in their parts, not as text; without attachments as $bytes text', async () => {
    const attached = pair(binaryJsonCodec)
    const payload = new Uint8Array([0, 1, 2, 255])
    assert.deepEqual(await attached.host.call('echo', [payload]), payload)
    assert.deepEqual(attached.counts, { text: 0, bytes: 1 })
    await attached.close()
    const plain = pair()
    assert.deepEqual(await plain.host.call('echo', [payload]), payload)
    assert.deepEqual(plain.counts, { text: 1, bytes: 0 })
    await plain.close()
  })

  it('sends MessagePack as bytes: only a codec that writes text offers it', async () => {
    const { host, counts, close } = pair(msgpackCodec)
    assert.equal(await host.call('echo', ['x']), 'x')
    assert.deepEqual(counts, { text: 0, bytes: 1 })
    await close()
  })

  it('refuses a text message over its size limit with FRAME_TOO_LARGE, counted in bytes', async () => {
    const toPlugin = new PassThrough()
    const host = new Peer(streamChannel(new PassThrough(), toPlugin), { maxMessageBytes: 200 })
    // 80 characters of 2 bytes each: 160 bytes of UTF-8 in the param, over 200 with the envelope.
    await assert.rejects(host.call('echo', ['é'.repeat(80)]), { code: 'FRAME_TOO_LARGE' })
    // The same in ASCII, 125 characters (over the limit at 3 bytes each, 125 bytes as it is), is sent: nobody answers it.
    const sent = host.call('echo', ['e'.repeat(80)])
    await host.close()
    await assert.rejects(sent, { code: 'CHANNEL_CLOSED' })
  })
})

describe("a process plugin's channel, as the host holds it, keeps sendText", () => {
  // The process placement wraps the transport's channel (crash reports, exit status): the wrapper
  // must pass sendText through, or every message of a sidecar would be made into a Buffer first.
  for (const transport of ['stdio', 'fifo', 'unix', 'tcp']) {
    it(`${transport}: the launched channel offers sendText`, async () => {
      const loaded = await readManifest(join(examplesDir, `js-process-${transport}`))
      const launched = await launchProcess({ id: loaded.manifest.id, loaded })
      try {
        assert.equal(launched.channel.carries, 'bytes')
        assert.equal(typeof launched.channel.sendText, 'function')
      } finally {
        await launched.kill()
      }
    })
  }
})
