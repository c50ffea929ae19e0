/**
 * A seeded fuzzer for the byte-stream stack: every framing (length, content-length, ndjson) and
 * every decoder (JSON, JSON with attachments, MessagePack) behind a real Peer with handlers, fed valid messages, valid
 * frames around garbage bodies, mutated frames and raw garbage, split into random chunks. A frame
 * that breaks the framing closes its channel (as designed) and the fuzzer opens a new one. Used by
 * the suite (a fixed seed, a fixed frame count) and by `npm run fuzz -- --seconds N`.
 */
import { PassThrough } from 'node:stream'
import { encodeFrame, type FramingName } from '../../src/framing/framing.js'
import { binaryJsonCodec } from '../../src/rpc/attachments.js'
import { jsonCodec, type Codec } from '../../src/rpc/codec.js'
import { msgpackCodec } from '../../src/rpc/msgpack.js'
import { Peer } from '../../src/rpc/peer.js'
import { streamChannel } from '../../src/transports/stream.js'

/** mulberry32: a small, fast, seedable PRNG (deterministic runs for a given seed). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface FuzzOptions {
  seed: number
  /** Stop after this many frames... */
  frames?: number
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number
}

export interface FuzzResult {
  frames: number
  bytes: number
  /** Channels closed by a framing error (and replaced). */
  channelsClosed: number
  /** Uncaught exceptions and unhandled rejections seen while fuzzing: must be 0. */
  uncaught: string[]
  /** Highest RSS growth seen, in MiB. */
  rssGrowthMiB: number
  /** A clean channel opened after the fuzz answered a call: the host side is alive. */
  aliveAfter: boolean
  perTarget: Record<string, number>
}

const TARGETS: { framing: FramingName; codec: Codec; label: string }[] = [
  { framing: 'length', codec: jsonCodec, label: 'json' },
  { framing: 'length', codec: binaryJsonCodec, label: 'json+attachments' },
  { framing: 'length', codec: msgpackCodec, label: 'msgpack' },
  { framing: 'content-length', codec: jsonCodec, label: 'json' },
  { framing: 'content-length', codec: binaryJsonCodec, label: 'json+attachments' },
  { framing: 'content-length', codec: msgpackCodec, label: 'msgpack' },
  { framing: 'ndjson', codec: jsonCodec, label: 'json' },
]

interface Target {
  incoming: PassThrough
  peer: Peer
}

function open(framing: FramingName, codec: Codec): Target {
  const incoming = new PassThrough()
  const outgoing = new PassThrough()
  outgoing.resume() // answers are read and dropped, as a plugin that reads would
  const peer = new Peer(streamChannel(incoming, outgoing, { framing, maxFrameBytes: 64 * 1024 }), { name: 'fuzzed', codec, maxMessageBytes: 64 * 1024 })
  peer.handle('echo', (params) => params)
  peer.handle('fail', () => {
    throw new Error('handler failure')
  })
  peer.handle('note', () => {})
  return { incoming, peer }
}

export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  const random = prng(options.seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  const maxFrames = options.frames ?? Infinity
  const deadline = options.seconds === undefined ? Infinity : Date.now() + options.seconds * 1000
  const uncaught: string[] = []
  const onUncaught = (error: unknown) => void uncaught.push(String((error as Error)?.stack ?? error))
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  const before = process.memoryUsage.rss()
  let peak = before
  const targets = TARGETS.map((t) => ({ ...t, live: open(t.framing, t.codec), name: `${t.framing}/${t.label}` }))
  const perTarget: Record<string, number> = {}
  let frames = 0
  let bytes = 0
  let channelsClosed = 0

  const values = (): unknown => {
    switch (int(10)) {
      case 0: return null
      case 1: return int(1e9) - 5e8
      case 2: return random()
      case 3: return 'é✓\u0000'.repeat(int(5)) + 'x'.repeat(int(50))
      case 4: return Array.from({ length: int(5) }, () => int(100))
      case 5: return { a: int(10), b: [true, false] }
      case 6: return nest(int(80))
      case 7: return new Uint8Array(int(40))
      case 8: return pick([{ $bin: [int(64), int(64)] }, { $bin: [-1, 2] }, { $bin: 'x' }, { $bin: [0] }, { $bytes: 'AAEC' }])
      default: return true
    }
  }
  const message = (): unknown => {
    const id = pick([int(1000), `id-${int(1000)}`, null, -1, 1.5, {}, undefined])
    switch (int(7)) {
      case 0: return { jsonrpc: '2.0', id, method: pick(['echo', 'fail', 'note', 'missing', '$/cancel', '$/progress', '$/ping', '']), params: pick([[values()], { v: values() }, values()]) }
      case 1: return { jsonrpc: '2.0', method: pick(['note', 'echo', '$/cancel']), params: [values()] }
      case 2: return { jsonrpc: '2.0', id, result: values() }
      case 3: return { jsonrpc: '2.0', id, error: pick([{ code: -32000, message: 'x', data: values() }, { code: 'bad' }, null, values()]) }
      case 4: return { jsonrpc: pick(['1.0', 2, null]), id, method: 'echo' }
      case 5: return values()
      default: return { jsonrpc: '2.0', id: int(5), method: 'echo', params: [values()], extra: values() }
    }
  }
  const randomBytes = (n: number) => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = int(256)
    return out
  }
  const body = (codec: Codec, framing: FramingName): Uint8Array => {
    let encoded: Uint8Array
    try {
      encoded = framing === 'ndjson' || codec === jsonCodec ? new TextEncoder().encode(JSON.stringify(message()) ?? 'null') : Buffer.concat([codec.encode(message())].flat())
    } catch {
      encoded = new TextEncoder().encode('{}')
    }
    const r = random()
    if (r < 0.55) return encoded
    if (r < 0.8) return mutate(encoded)
    return randomBytes(int(64))
  }
  const mutate = (bytes: Uint8Array): Uint8Array => {
    const out = new Uint8Array(bytes)
    for (let i = 0, n = 1 + int(4); i < n && out.length > 0; i++) out[int(out.length)] = int(256)
    return int(4) === 0 ? out.subarray(0, int(out.length + 1)) : out
  }

  try {
    while (frames < maxFrames && Date.now() < deadline) {
      const target = pick(targets)
      let b = body(target.codec, target.framing)
      if (target.framing === 'ndjson') b = b.map((x) => (x === 0x0a ? 0x20 : x))
      let frame = Buffer.concat(encodeFrame(target.framing, b, 1 << 30))
      const r = random()
      if (r < 0.04) frame = Buffer.from(mutate(frame)) // a broken frame: usually closes the channel
      else if (r < 0.05) frame = Buffer.from(randomBytes(1 + int(16)))
      // Random chunking: the decoder sees frames split anywhere and several per chunk.
      for (let at = 0; at < frame.length; ) {
        const size = 1 + int(Math.max(1, frame.length))
        target.live.incoming.write(frame.subarray(at, at + size))
        at += size
      }
      frames++
      bytes += frame.length
      perTarget[target.name] = (perTarget[target.name] ?? 0) + 1
      if (frames % 64 === 0) {
        await new Promise((resolve) => setImmediate(resolve))
        for (const t of targets) {
          if (t.live.peer.closed) {
            channelsClosed++
            t.live = open(t.framing, t.codec)
          }
        }
      }
      if (frames % 5000 === 0) peak = Math.max(peak, process.memoryUsage.rss())
    }
    // Closes still queued settle on the next turn before the last sample.
    await new Promise((resolve) => setImmediate(resolve))
    peak = Math.max(peak, process.memoryUsage.rss())
    // Alive: a fresh pair of peers over every framing still completes a call.
    let aliveAfter = true
    for (const { framing, codec } of TARGETS) aliveAfter &&= await roundTrip(framing, codec)
    for (const t of targets) await t.live.peer.close()
    return { frames, bytes, channelsClosed, uncaught, rssGrowthMiB: (peak - before) / 2 ** 20, aliveAfter, perTarget }
  } finally {
    process.off('uncaughtException', onUncaught)
    process.off('unhandledRejection', onUncaught)
  }
}

function nest(depth: number): unknown {
  let value: unknown = 0
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

async function roundTrip(framing: FramingName, codec: Codec): Promise<boolean> {
  const a = new PassThrough()
  const b = new PassThrough()
  const host = new Peer(streamChannel(a, b, { framing }), { codec, timeout: 5000 })
  const plugin = new Peer(streamChannel(b, a, { framing }), { codec })
  plugin.handle('echo', (params) => params)
  try {
    return JSON.stringify(await host.call('echo', ['alive'])) === '["alive"]'
  } catch {
    return false
  } finally {
    await host.close()
    await plugin.close()
  }
}
