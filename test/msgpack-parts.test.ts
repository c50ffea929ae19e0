/**
 * MessagePack bytes as parts (docs/protocol.md §4.2): a message holding a large Uint8Array is
 * encoded as its MessagePack head and the caller's own bytes, written together, never copied into
 * the encoder's buffer. The wire stays plain MessagePack, byte for byte what msgpackr packs, so an
 * independent MessagePack implementation (@msgpack/msgpack) reads and answers it with nothing
 * negotiated — over a real Unix socket, and from a real plugin process through the host.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, createConnection, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { decode as oracleDecode, encode as oracleEncode } from '@msgpack/msgpack'
import { createMemoryPair } from '../src/channels/memory.js'
import { encodeFrame, FrameDecoder } from '../src/framing/framing.js'
import { createHost, type Host } from '../src/host/host.js'
import { msgpackCodec, packParts, PART_MIN_BYTES } from '../src/rpc/msgpack.js'
import { Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { examplesDir } from './support/paths.js'
import { until } from './support/wait.js'
import { registerTap } from './support/wire-tap.js'

const SIZES = [0, 1, PART_MIN_BYTES - 1, PART_MIN_BYTES, 0xffff, 0x10000, 1024 * 1024]
const joined = (encoded: Uint8Array | Uint8Array[]) => Buffer.concat(Array.isArray(encoded) ? encoded : [encoded])
const same = (a: unknown, b: Uint8Array) => a instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

describe('MessagePack with bytes as parts', () => {
  it('encodes exactly what msgpackr packs, the large bytes as the caller\'s own buffer', () => {
    for (const size of SIZES) {
      const payload = randomBytes(size)
      const messages = [
        { jsonrpc: '2.0', id: 7, method: 'echo', params: [payload] },
        { jsonrpc: '2.0', id: 'x', result: { name: 'ü', data: payload, more: [1, null, new Uint8Array(payload.subarray(0, size >> 1))], after: true } },
      ]
      for (const message of messages) {
        const parts = packParts(message)
        assert.ok(joined(parts).equals(msgpackCodec.encode(message)), `${size} bytes: the parts join to msgpackr's own encoding`)
        assert.deepEqual(oracleDecode(joined(parts)), oracleDecode(msgpackCodec.encode(message)), `${size} bytes: an independent decoder reads the same message`)
        if (size >= PART_MIN_BYTES) assert.ok(Array.isArray(parts) && parts.includes(payload), `${size} bytes: the payload is a part of its own, not a copy`)
        else assert.ok(parts instanceof Uint8Array, `${size} bytes: one buffer (a small payload is copied into the head)`)
      }
    }
  })

  it('stays exact over thousands of messages, when the encoder moves to a new buffer midway', () => {
    const payload = randomBytes(70_000)
    for (let i = 0; i < 3000; i++) {
      const message = { jsonrpc: '2.0', id: i, method: 'put', params: ['k'.repeat(i % 1500), payload, 'v'.repeat((i * 7) % 900)] }
      assert.ok(joined(packParts(message)).equals(msgpackCodec.encode(message)), `message ${i}`)
    }
  })

  it('a Peer sends parts only to a channel that writes parts at once; elsewhere one Uint8Array', async () => {
    const payload = randomBytes(64 * 1024)
    const [mine, theirs] = createMemoryPair({ carries: 'bytes' })
    const got: unknown[] = []
    theirs.onMessage((message) => got.push(message))
    const peer = new Peer(mine, { codec: msgpackCodec })
    void peer.notify('put', [payload])
    await until(() => got.length === 1, 0, 'the notification arrives')
    assert.ok(got[0] instanceof Uint8Array, 'a channel that is not binary gets the message whole')
    assert.ok(same((oracleDecode(got[0]) as { params: unknown[] }).params[0], payload))
    await peer.close()
  })
})

describe('a MessagePack peer that knows nothing of parts, over a Unix socket', () => {
  let dir: string
  let server: Server
  let peer: Peer
  let oracle: Socket

  /** The other end: frames read and written by hand, messages by @msgpack/msgpack. */
  function oracleEnd(socket: Socket, onMessage: (message: Record<string, unknown>) => void): void {
    const frames = new FrameDecoder('length', 64 << 20)
    socket.on('data', (chunk: Buffer) => {
      for (const body of frames.push(chunk)) onMessage(oracleDecode(body) as Record<string, unknown>)
    })
  }
  const write = (socket: Socket, message: unknown) => socket.write(Buffer.concat(encodeFrame('length', oracleEncode(message))))

  const answers = new Map<number, Record<string, unknown>>()

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polyplug-msgpack-'))
    const path = join(dir, 's.sock')
    const accepted = new Promise<Socket>((resolve) => {
      server = createServer(resolve)
    })
    await new Promise<void>((resolve) => server.listen(path, resolve))
    const socket = createConnection(path)
    oracle = await accepted
    oracleEnd(oracle, (message) => {
      if ('method' in message) write(oracle, { jsonrpc: '2.0', id: message.id, result: (message.params as unknown[])[0] })
      else answers.set(message.id as number, message)
    })
    peer = new Peer(streamChannel(socket, socket), { codec: msgpackCodec })
    peer.handle('echo', (params) => (params as unknown[])[0])
  })

  after(async () => {
    await peer?.close()
    oracle?.destroy()
    server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  for (const size of SIZES) {
    it(`${size} bytes go to it and come back exactly, both ways`, async () => {
      const payload = randomBytes(size)
      assert.ok(same(await peer.call('echo', [payload]), payload), 'the Peer\'s call, answered by the independent encoder')
      const id = 1000 + size
      write(oracle, { jsonrpc: '2.0', id, method: 'echo', params: [payload] })
      await until(() => answers.has(id), 0, `the answer to ${id}`)
      assert.ok(same(answers.get(id)!.result, payload), 'the Peer\'s answer, read by the independent decoder')
    })
  }
})

describe('a js plugin process speaking MessagePack over unix', () => {
  const log = registerTap('unix')
  const shared = join(examplesDir, 'shared')
  let root: string
  let host: Host

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-msgpack-host-'))
    const dir = join(root, 'mp')
    await mkdir(dir)
    const manifest = {
      id: 'mp-unix', version: '1.0.0', kind: 'js', placement: 'process', transport: 'tap-unix', sidecar: { encoding: 'msgpack' },
      entry: relative(dir, join(shared, 'conformance.js')), permissions: { fs: [{ path: relative(dir, shared), access: 'read' }] },
    }
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify(manifest))
    host = await createHost({ plugins: [root], logger: () => {} })
  })

  after(async () => {
    await host?.close()
    await rm(root, { recursive: true, force: true })
  })

  it('echoes 0 B to 1 MiB exactly, and the frames both ways are plain MessagePack holding the payload as bin', { timeout: 120_000 }, async () => {
    const plugin = host.plugin('mp-unix')
    await plugin.activate()
    for (const size of SIZES) {
      const payload = randomBytes(size)
      const sent = log.sent.length
      const received = log.received.length
      assert.ok(same(await plugin.call('echo', [payload]), payload), `${size} bytes round-trip`)
      const request = log.sent.slice(sent).map((body) => oracleDecode(body) as Record<string, unknown>).find((m) => m.method === 'echo')
      const answer = log.received.slice(received).map((body) => oracleDecode(body) as Record<string, unknown>).find((m) => 'result' in m)
      assert.ok(request && same((request.params as unknown[])[0], payload), `${size} bytes: the request an independent decoder reads holds the payload`)
      assert.ok(answer && same(answer.result, payload), `${size} bytes: so does the answer`)
    }
  })
})
