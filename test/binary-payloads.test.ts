/**
 * Bytes travel as bytes (docs/protocol.md §4.1): on every byte-stream transport and shm, with
 * each kit that answers the `"binary"` capability, an echo of 0 B, 1 B, 64 KiB and 1 MiB comes back
 * exactly, and the frames the host wrote and read — recorded at the host's end of the channel —
 * hold the payload itself after a small JSON head, never base64. A message over the 16 MiB limit
 * is refused with FRAME_TOO_LARGE and the plugin goes on. Where the capability cannot apply
 * (ndjson framing) the host does not offer it and base64 `$bytes` still round-trips.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { rejectsWithCode } from './support/assert-code.js'
import { examplesDir } from './support/paths.js'
import { type Requirement, requires, tools } from './support/requires.js'
import { registerTap, type WireLog } from './support/wire-tap.js'
import { PassThrough } from 'node:stream'
import { encodeFrame, FrameDecoder } from '../src/framing/framing.js'
import { binaryJsonCodec, encodeWithAttachments, jsonReadingAttachments } from '../src/rpc/attachments.js'
import { Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'

const TRANSPORTS = ['stdio', 'fifo', 'unix', 'tcp', 'shm'] as const
const SIZES = [0, 1, 64 * 1024, 1024 * 1024]
const shared = join(examplesDir, 'shared')

const taps = new Map<string, WireLog>(TRANSPORTS.map((name) => [name, registerTap(name)]))

interface Kit {
  name: string
  /** What the kit's program needs to have been built. */
  requirements?: Requirement[]
  /** Transports the kit speaks; default all. */
  transports?: readonly string[]
  /** Builds what the plugins run, once, into `root`. */
  build?(root: string): void
  manifest(dir: string, root: string): Record<string, unknown>
}

const KITS: Kit[] = [
  {
    name: 'js',
    manifest: (dir) => ({ kind: 'js', entry: relative(dir, join(shared, 'conformance.js')), permissions: { fs: [{ path: relative(dir, shared), access: 'read' }] } }),
  },
  {
    name: 'python',
    requirements: [tools.python3],
    manifest: (dir) => ({ kind: 'exec', entry: relative(dir, join(shared, 'conformance.py')), sidecar: { command: ['python3', relative(dir, join(shared, 'conformance.py'))] } }),
  },
  {
    name: 'c',
    requirements: [tools.gcc, tools.jansson],
    transports: ['stdio', 'fifo', 'unix', 'tcp'],
    manifest: (dir) => ({ kind: 'exec', entry: relative(dir, join(shared, 'bin', 'c-conformance')), sidecar: { command: [relative(dir, join(shared, 'bin', 'c-conformance'))] } }),
  },
  {
    name: 'rust',
    requirements: [tools.cargo, tools.serdeJson],
    transports: ['stdio', 'fifo', 'unix', 'tcp'],
    manifest: (dir) => {
      const program = relative(dir, join(examplesDir, '..', 'kits', 'rust-sidecar', 'target', 'release', 'rust-conformance'))
      return { kind: 'exec', entry: program, sidecar: { command: [program] } }
    },
  },
  {
    name: 'go',
    requirements: [tools.go],
    transports: ['stdio', 'fifo', 'unix', 'tcp'],
    build: (root) => void execFileSync('go', ['build', '-o', join(root, 'go-conformance'), './examples'], { cwd: join(examplesDir, '..', 'kits', 'go'), stdio: 'inherit' }),
    manifest: (dir, root) => ({ kind: 'exec', entry: relative(dir, join(root, 'go-conformance')), sidecar: { command: [relative(dir, join(root, 'go-conformance'))] } }),
  },
]

const usable = (kit: Kit) => requires(...(kit.requirements ?? [])) === false

/** Head of a message with attachments: its JSON text and its attachment area; undefined for plain JSON. */
function readAttached(body: Buffer): { json: string; area: Buffer } | undefined {
  if (body[0] !== 0x00) return undefined
  const length = body.readUInt32BE(1)
  return { json: body.subarray(5, 5 + length).toString('utf8'), area: body.subarray(5 + length) }
}

function lastEcho(frames: Buffer[], from: number, test: (text: string) => boolean): Buffer {
  const found = frames.slice(from).find((body) => test(readAttached(body)?.json ?? body.toString('latin1')))
  assert.ok(found, 'the echo went over the recorded channel')
  return found
}

/** The frame carries `payload` as raw bytes after a JSON head that references it, and no base64 of it. */
function assertCarriedRaw(body: Buffer, payload: Buffer, what: string): void {
  const attached = readAttached(body)
  assert.ok(attached, `${what}: the frame starts with the attachment mark 0x00 (got ${JSON.stringify(body.subarray(0, 24).toString('latin1'))})`)
  assert.ok(!attached.json.includes('$bytes'), `${what}: no $bytes in the JSON head`)
  assert.ok(attached.json.includes(`{"$bin":[0,${payload.length}]}`), `${what}: the JSON references the attachment: ${attached.json}`)
  assert.ok(attached.json.length < 200, `${what}: the JSON head stays small (${attached.json.length} bytes)`)
  assert.ok(attached.area.equals(payload), `${what}: the attachment area is the payload, byte for byte`)
  assert.equal(body.length, 5 + Buffer.byteLength(attached.json) + payload.length, `${what}: nothing else in the body`)
}

describe('binary payloads travel as bytes', () => {
  let root: string
  let host: Host

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-binary-'))
    for (const kit of KITS.filter(usable)) {
      kit.build?.(root)
      for (const transport of kit.transports ?? TRANSPORTS) {
        const id = `bin-${kit.name}-${transport}`
        const dir = join(root, id)
        await mkdir(dir)
        await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', placement: 'process', transport: `tap-${transport}`, ...kit.manifest(dir, root) }))
      }
    }
    const dir = join(root, 'bin-js-ndjson')
    await mkdir(dir)
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id: 'bin-js-ndjson', version: '1.0.0', placement: 'process', transport: 'tap-stdio', sidecar: { framing: 'ndjson' }, ...KITS[0]!.manifest(dir, root) }))
    host = await createHost({ plugins: [root], logger: () => {} })
  })

  after(async () => {
    await host?.close()
    await rm(root, { recursive: true, force: true })
  })

  for (const kit of KITS) {
    for (const transport of kit.transports ?? TRANSPORTS) {
      it(`${kit.name} kit over ${transport}: 0 B, 1 B, 64 KiB and 1 MiB echo exactly, as raw bytes both ways; 16 MiB is FRAME_TOO_LARGE`, { skip: requires(...(kit.requirements ?? [])), timeout: 120_000 }, async () => {
        const log = taps.get(transport)!
        const plugin = host.plugin(`bin-${kit.name}-${transport}`)
        const start = log.sent.length
        await plugin.activate()
        const hello = lastEcho(log.sent, start, (text) => text.includes('"$/hello"'))
        assert.match(hello.toString(), /"capabilities":\["binary"\]/, 'the host offers the capability in $/hello')
        assert.match(lastEcho(log.received, 0, (text) => text.includes('"token"')).toString(), /"binary"/, 'the kit accepts it')
        for (const size of SIZES) {
          const payload = randomBytes(size)
          const sent = log.sent.length
          const received = log.received.length
          const echoed = await plugin.call('echo', [payload])
          assert.ok(echoed instanceof Uint8Array, `echo of ${size} bytes answers bytes`)
          assert.ok(Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).equals(payload), `echo of ${size} bytes round-trips exactly`)
          assertCarriedRaw(lastEcho(log.sent, sent, (text) => text.includes('"method":"echo"')), payload, `request of ${size} bytes`)
          assertCarriedRaw(lastEcho(log.received, received, (text) => text.includes('"result"')), payload, `answer of ${size} bytes`)
        }
        const error = await rejectsWithCode(plugin.call('echo', [Buffer.alloc(16 * 1024 * 1024)]), 'FRAME_TOO_LARGE')
        assert.match(error.message, /exceeds the limit/)
        assert.deepEqual(await plugin.call('echo', [{ bytes: Buffer.from([1, 2, 3]), text: 'still here' }]), { bytes: new Uint8Array([1, 2, 3]), text: 'still here' })
      })
    }
  }

  it('ndjson framing cannot carry bytes: the host does not offer the capability, and base64 $bytes still round-trips', { timeout: 60_000 }, async () => {
    const log = taps.get('stdio')!
    const plugin = host.plugin('bin-js-ndjson')
    const start = log.sent.length
    await plugin.activate()
    assert.doesNotMatch(lastEcho(log.sent, start, (text) => text.includes('"$/hello"')).toString(), /"binary"/)
    const payload = randomBytes(4096)
    const sent = log.sent.length
    const echoed = await plugin.call('echo', [payload])
    assert.ok(Buffer.from(echoed as Uint8Array).equals(payload))
    const request = lastEcho(log.sent, sent, (text) => text.includes('"method":"echo"'))
    assert.equal(readAttached(request), undefined, 'a plain JSON frame')
    assert.ok(request.toString().includes(`{"$bytes":"${payload.toString('base64')}"}`), 'the payload is base64 inside $bytes')
  })
})

describe('messages with attachments, read by the Node peer', () => {
  /** A peer reading attachments behind a length-framed stream; `answers()` decodes what it wrote back. */
  function open() {
    const incoming = new PassThrough()
    const outgoing = new PassThrough()
    const decoder = new FrameDecoder('length')
    const written: unknown[] = []
    outgoing.on('data', (chunk: Buffer) => written.push(...decoder.push(chunk).map((body) => binaryJsonCodec.decode(body))))
    const peer = new Peer(streamChannel(incoming, outgoing), { codec: jsonReadingAttachments })
    peer.handle('echo', (params) => params)
    const send = (body: Uint8Array) => incoming.write(Buffer.concat(encodeFrame('length', body)))
    return { peer, send, written }
  }
  const head = (json: string, area: Buffer) => {
    const text = Buffer.from(json)
    const out = Buffer.alloc(5 + text.length)
    out.writeUInt32BE(text.length, 1)
    text.copy(out, 5)
    return Buffer.concat([out, area])
  }
  const until = async (test: () => boolean) => {
    for (let i = 0; i < 500 && !test(); i++) await new Promise((resolve) => setImmediate(resolve))
    assert.ok(test(), 'the peer answered')
  }

  it('a well-formed one is read, its bytes views of the frame; the answer goes back plain until attachments are agreed', async () => {
    const { peer, send, written } = open()
    send(Buffer.concat(encodeWithAttachments({ jsonrpc: '2.0', id: 1, method: 'echo', params: [new Uint8Array([1, 2, 3]), { b: new Uint8Array([4]) }] })))
    await until(() => written.length === 1)
    assert.deepEqual(written[0], { jsonrpc: '2.0', id: 1, result: [new Uint8Array([1, 2, 3]), { b: new Uint8Array([4]) }] })
    await peer.close()
  })

  for (const [what, body] of [
    ['a head shorter than 5 bytes', Buffer.from([0, 0, 0])],
    ['a JSON length past the end', head('{}', Buffer.alloc(0)).fill(0xff, 1, 5)],
    ['a reference past the attachment area', head('{"jsonrpc":"2.0","id":2,"method":"echo","params":[{"$bin":[2,5]}]}', Buffer.from([1, 2, 3]))],
    ['a negative offset', head('{"jsonrpc":"2.0","id":3,"method":"echo","params":[{"$bin":[-1,1]}]}', Buffer.from([1]))],
    ['a reference that is not [offset, length]', head('{"jsonrpc":"2.0","id":4,"method":"echo","params":[{"$bin":"AA"}]}', Buffer.from([1]))],
    ['invalid UTF-8 in the JSON text', head('\u00ff', Buffer.alloc(0)).fill(0xff, 5)],
  ] as const) {
    it(`${what} is PARSE_ERROR, answered with id null, and the peer goes on`, async () => {
      const { peer, send, written } = open()
      send(body)
      await until(() => written.length === 1)
      assert.deepEqual((written[0] as { id: unknown; error: { code: number } }).id, null)
      assert.equal((written[0] as { error: { code: number } }).error.code, -32700)
      send(Buffer.from('{"jsonrpc":"2.0","id":9,"method":"echo","params":["after"]}'))
      await until(() => written.length === 2)
      assert.deepEqual(written[1], { jsonrpc: '2.0', id: 9, result: ['after'] })
      await peer.close()
    })
  }
})
