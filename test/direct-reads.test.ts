/**
 * Reads into the channel's memory (src/transports/direct-reads.ts, FrameDecoder.readTarget): a
 * large frame's body is read in place, anything else is copied out of one reused scratch buffer,
 * and the frames are the same as those `push` cuts, whatever the reads.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { encodeFrame, FrameDecoder, UNFILLED_MIN_BYTES } from '../src/framing/framing.js'
import { DirectReads, SCRATCH_BYTES } from '../src/transports/direct-reads.js'
import { connectSocket } from '../src/transports/socket.js'
import { fifoPluginChannel, fifoTransport } from '../src/transports/fifo.js'
import { streamChannel } from '../src/transports/stream.js'
import { TransportErrorCodes } from '../src/errors/transport.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { until } from './support/wait.js'

const frameOf = (body: Uint8Array) => Buffer.concat(encodeFrame('length', body))
/** Frames as plain Uint8Arrays (a copy out of a read is a Buffer), to compare by their bytes. */
const plain = (frames: Uint8Array[]) => frames.map((f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength))
const pattern = (size: number, seed = 0) => new Uint8Array(size).map((_, i) => (i * 7 + seed) & 255)

/** Plays the kernel for a DirectReads: each read copies up to `most` bytes of `stream` into the buffer it was given. */
function feed(reads: DirectReads, stream: Uint8Array, most = Infinity): { reads: number; inPlace: number } {
  let at = 0
  let count = 0
  let inPlace = 0
  while (at < stream.byteLength) {
    const target = reads.onread.buffer()
    const n = Math.min(target.byteLength, most, stream.byteLength - at)
    target.set(stream.subarray(at, at + n))
    at += n
    count++
    if (target.byteLength !== SCRATCH_BYTES) inPlace++
    reads.onread.callback(n, target)
  }
  return { reads: count, inPlace }
}

describe('FrameDecoder.readTarget', () => {
  it('gives no target before a header, for a small frame, or outside `length` framing', () => {
    const d = new FrameDecoder('length')
    assert.equal(d.readTarget(), undefined)
    d.push(frameOf(pattern(100)).subarray(0, 10))
    assert.equal(d.readTarget(), undefined)
    assert.equal(new FrameDecoder('content-length').readTarget(), undefined)
  })

  it('once a large header is known, the target is the rest of the body, and the frame is the memory read into', () => {
    const body = pattern(UNFILLED_MIN_BYTES * 3)
    const frame = frameOf(body)
    const d = new FrameDecoder('length')
    assert.deepEqual(d.push(frame.subarray(0, 1000)), [])
    const target = d.readTarget() as Uint8Array
    assert.equal(target.byteLength, body.byteLength - 996)
    assert.equal(d.buffered, 996)
    target.set(frame.subarray(1000, 5000))
    assert.deepEqual(d.filled(4000), [])
    const rest = d.readTarget() as Uint8Array
    assert.equal(rest.buffer, target.buffer, 'the same body, further on')
    rest.set(frame.subarray(5000))
    const [got] = d.filled(rest.byteLength)
    assert.deepEqual(got, body)
    assert.equal(got!.buffer, target.buffer, 'no join: the frame is where the reads landed')
    assert.equal(d.buffered, 0)
    assert.equal(d.readTarget(), undefined, 'the next frame starts in scratch memory again')
  })

  it('`push` while a body is being filled completes it and cuts the frames after it', () => {
    const big = pattern(UNFILLED_MIN_BYTES + 1)
    const small = pattern(10, 3)
    const stream = Buffer.concat([frameOf(big), frameOf(small)])
    const d = new FrameDecoder('length')
    d.push(stream.subarray(0, 100))
    d.readTarget()
    const frames = d.push(stream.subarray(100))
    assert.deepEqual(plain(frames), [big, small])
  })

  it('a stream that ends inside a body being filled is truncated', () => {
    const d = new FrameDecoder('length')
    d.push(frameOf(pattern(UNFILLED_MIN_BYTES * 2)).subarray(0, 50))
    d.readTarget()
    d.filled(10)
    assert.throws(() => d.end(), (e: unknown) => e instanceof PolyplugError && e.code === TransportErrorCodes.FRAME_INVALID)
  })
})

describe('DirectReads', () => {
  it('a 1 MiB frame and small frames around it arrive whole, the large body read in place in one read', () => {
    const frames = [pattern(20, 1), pattern(1 << 20, 2), pattern(30, 3)]
    const reads = new DirectReads()
    const got: Uint8Array[] = []
    const decoder = new FrameDecoder('length')
    reads.start(decoder, (_size, cut) => got.push(...cut()))
    const { reads: count, inPlace } = feed(reads, Buffer.concat(frames.map(frameOf)))
    assert.deepEqual(plain(got), frames)
    assert.equal(inPlace, 1, 'the body past the first scratch read lands in the frame in one read')
    assert.ok(count <= 3, `${count} reads`)
  })

  it('frames cut from scratch reads are copies: later reads into the scratch do not touch them', () => {
    const frames = Array.from({ length: 50 }, (_, i) => pattern(100 + i, i))
    const reads = new DirectReads()
    const got: Uint8Array[] = []
    reads.start(new FrameDecoder('length'), (_size, cut) => got.push(...cut()))
    feed(reads, Buffer.concat(frames.map(frameOf)), 77)
    assert.deepEqual(plain(got), frames)
  })

  it('what arrives before the channel starts reading is given to it then, in order', () => {
    const frames = [pattern(40, 1), pattern(50, 2)]
    const reads = new DirectReads()
    feed(reads, Buffer.concat(frames.map(frameOf)), 30)
    const got: Uint8Array[] = []
    reads.start(new FrameDecoder('length'), (_size, cut) => got.push(...cut()))
    assert.deepEqual(plain(got), frames)
  })

  it('over a Unix socket made with `onread`: 1 MiB frames both ways through a streamChannel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyplug-direct-'))
    const path = join(dir, 's')
    const server = createServer()
    server.listen(path)
    await once(server, 'listening')
    try {
      const accepted = once(server, 'connection') as Promise<[Socket]>
      const plugin = await connectSocket({ path }, { framing: 'length' })
      const [socket] = await accepted
      const host = streamChannel(socket, socket)
      const atPlugin: Uint8Array[] = []
      const atHost: Uint8Array[] = []
      plugin.onMessage((m) => atPlugin.push(m as Uint8Array))
      host.onMessage((m) => atHost.push(m as Uint8Array))
      const sent = [pattern(1 << 20, 5), pattern(9, 6), pattern(1 << 20, 7)]
      for (const body of sent) void host.send(body)
      await until(() => atPlugin.length === sent.length)
      assert.deepEqual(plain(atPlugin), sent)
      for (const body of atPlugin) void plugin.send(body)
      await until(() => atHost.length === sent.length)
      assert.deepEqual(plain(atHost), sent)
      await Promise.all([plugin.close(), host.close()])
    } finally {
      server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('over a FIFO pair: a 1 MiB echo through both ends', async () => {
    const endpoint = await fifoTransport.prepare({ id: 'direct', framing: 'length', maxFrameBytes: 1 << 24 })
    try {
      const pluginSide = fifoPluginChannel(endpoint.env.POLYPLUG_FIFO_IN as string, endpoint.env.POLYPLUG_FIFO_OUT as string, { framing: 'length' })
      const host = await endpoint.connect({ stdin: null, stdout: null }, new AbortController().signal)
      const plugin = await pluginSide
      plugin.onMessage((m) => void plugin.send(m as Uint8Array))
      const echoed: Uint8Array[] = []
      host.onMessage((m) => echoed.push(m as Uint8Array))
      const body = pattern(1 << 20, 9)
      void host.send(body)
      await until(() => echoed.length === 1)
      assert.deepEqual(plain(echoed), [body])
      await Promise.all([plugin.close(), host.close()])
    } finally {
      await endpoint.dispose()
    }
  })
})
