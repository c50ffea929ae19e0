/**
 * The framing layer facing a misbehaving peer: text printed where frames belong is reported as
 * stray output with its first bytes, and a partial frame that stops arriving closes the channel
 * with FRAME_TIMEOUT on its own, without waiting for some call's deadline.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FrameDecoder } from '../src/framing/framing.js'
import { createHost } from '../src/host/host.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'

const enc = new TextEncoder()

function decodeError(decoder: FrameDecoder, bytes: Uint8Array): PolyplugError {
  try {
    decoder.push(bytes)
  } catch (error) {
    assert.ok(error instanceof PolyplugError)
    return error
  }
  assert.fail('expected the decoder to refuse the bytes')
}

describe('stray text where frames are expected', () => {
  it('length: "bye\\n" is reported as text written to stdout, not as a 1,652,122,890-byte frame', () => {
    const error = decodeError(new FrameDecoder('length'), enc.encode('bye\n'))
    assert.equal(error.code, 'FRAME_INVALID')
    assert.match(error.message, /wrote text where frames were expected: "bye\\n…"/)
    assert.match(error.message, /stdout carries frames: log with ctx\.log or to stderr/)
    assert.deepEqual(error.data, { stray: 'bye\n' })
  })

  it('length: shows the first bytes of a longer print, non-printable ones as dots', () => {
    const error = decodeError(new FrameDecoder('length'), enc.encode(`Traceback (most recent call last):\n  File "x.py"\u0007${'z'.repeat(100)}`))
    assert.match(error.message, /"Traceback \(most recent call last\):\\n {2}Fil…"/)
  })

  it('length: binary garbage with a huge length is still FRAME_TOO_LARGE', () => {
    assert.equal(decodeError(new FrameDecoder('length'), new Uint8Array([0x80, 0, 0, 0])).code, 'FRAME_TOO_LARGE')
  })

  it('content-length: a print before the headers is reported as stray text', () => {
    const error = decodeError(new FrameDecoder('content-length'), enc.encode('starting up\r\n\r\n'))
    assert.equal(error.code, 'FRAME_INVALID')
    assert.match(error.message, /wrote text where frames were expected: "starting up…"/)
  })

  it('a real stdio plugin that prints "bye" fails its call with the stray text shown', async () => {
    const root = await mkdtemp(join(tmpdir(), 'polyplug-stray-'))
    const dir = join(root, 'prints-bye')
    await mkdir(dir)
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id: 'prints-bye', version: '1.0.0', kind: 'exec', entry: 'bye.py', placement: 'process', transport: 'stdio', sidecar: { command: ['python3', 'bye.py'] } }))
    // One program only: the sandbox lets a plugin run its own command and nothing it would spawn.
    await writeFile(join(dir, 'bye.py'), 'import sys\nsys.stdout.write("bye\\n")\nsys.stdout.flush()\nsys.stdin.buffer.read()\n')
    const host = await createHost({ plugins: [root], logger: () => {} })
    try {
      const error = await rejectsWithCode(host.plugin('prints-bye').call('x'), 'FRAME_INVALID')
      assert.match(error.message, /"bye\\n…"/)
      assert.doesNotMatch(error.message, /1652122890/)
    } finally {
      await host.close()
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('the frame-read timeout', () => {
  /** A real process that writes `bytes` to its stdout and then stays silent. */
  async function writesThenStalls(hex: string) {
    const child = spawn('sh', ['-c', `printf '${hex}'; exec sleep 600`], { stdio: ['pipe', 'pipe', 'ignore'] })
    await once(child, 'spawn')
    return child
  }

  it('a partial frame that stops arriving closes the channel with FRAME_TIMEOUT, failing the pending call', async () => {
    // A header announcing 100 bytes, then 3 of them.
    const child = await writesThenStalls('\\000\\000\\000\\144abc')
    try {
      const channel = streamChannel(child.stdout!, child.stdin!, { frameTimeoutMs: 300 })
      const closed = new Promise<Error | undefined>((resolve) => channel.onClose(resolve))
      const peer = new Peer(channel, { name: 'stalls' })
      const t0 = performance.now()
      const error = await rejectsWithCode(peer.call('x'), 'FRAME_TIMEOUT')
      assert.ok(performance.now() - t0 >= 250, 'not before the timeout')
      assert.deepEqual(error.data, { buffered: 3, timeoutMs: 300 })
      assert.equal(((await closed) as PolyplugError).code, 'FRAME_TIMEOUT')
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('a slow but steady frame is not cut off, and a channel idle between frames never times out', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'slow', params: ['x'.repeat(20)] })
    const header = Buffer.alloc(4)
    header.writeUInt32BE(body.length)
    const frame = Buffer.concat([header, Buffer.from(body)])
    // Eight pieces 100 ms apart (the timeout is 1,500 ms: room for a loaded machine), then idle well past the timeout.
    const pieces = Array.from({ length: 8 }, (_, i) => frame.subarray((i * frame.length) / 8, ((i + 1) * frame.length) / 8))
    const script = pieces.map((p) => `printf '${[...p].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}'; sleep 0.1`).join('; ')
    const child = spawn('sh', ['-c', `${script}; exec sleep 600`], { stdio: ['pipe', 'pipe', 'ignore'] })
    try {
      const channel = streamChannel(child.stdout!, child.stdin!, { frameTimeoutMs: 1500 })
      const received = new Promise<unknown>((resolve) => channel.onMessage(resolve))
      let closedWith: unknown = 'open'
      channel.onClose((e) => (closedWith = e))
      const message = (await received) as Uint8Array
      assert.equal(new TextDecoder().decode(message), body)
      // Idle between frames. The witness that a whole timeout period has passed: a second channel
      // with the same timeout, whose partial frame arrives only now, times out. Any timer the idle
      // channel armed (at its last byte, before the witness started) would have fired first.
      const witness = await writesThenStalls('\\000\\000\\000\\144abc')
      try {
        const witnessChannel = streamChannel(witness.stdout!, witness.stdin!, { frameTimeoutMs: 1500 })
        let witnessClosed: unknown = 'open'
        witnessChannel.onClose((e) => (witnessClosed = e))
        await until(() => witnessClosed !== 'open', 30_000, 'the witness channel timed out')
        assert.equal((witnessClosed as PolyplugError).code, 'FRAME_TIMEOUT')
      } finally {
        witness.kill('SIGKILL')
      }
      assert.equal(closedWith, 'open')
      assert.equal(channel.closed, false)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
