/**
 * The host's ends of stdio, unix and tcp (src/transports/adopt-reads.ts): a connection accepted
 * paused, or a child's stdout before anything was read from it, is handed to a socket that reads
 * into the channel's memory, so a large frame's body is read in place as on the sockets polyplug
 * creates; where that cannot be done the stream is kept and read as before. The first test fails when the Node it runs on stops allowing
 * the adoption (it reads Node's `_handle` and passes its `handle` option).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, mock } from 'node:test'
import { encodeFrame, FrameDecoder } from '../src/framing/framing.js'
import { adoptReads, PAUSE_ON_CONNECT } from '../src/transports/adopt-reads.js'
import { streamChannel } from '../src/transports/stream.js'
import { unixTransport } from '../src/transports/unix.js'
import { tcpTransport } from '../src/transports/tcp.js'
import { stdioTransport } from '../src/transports/stdio.js'
import { spawn } from 'node:child_process'
import { connectSocket, parseAddress } from '../src/transports/socket.js'
import type { Channel } from '../src/channels/channel.js'
import { until } from './support/wait.js'

const pattern = (size: number, seed = 0) => new Uint8Array(size).map((_, i) => (i * 7 + seed) & 255)
const plain = (frames: Uint8Array[]) => frames.map((f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength))
const wire = (bodies: Uint8Array[]) => Buffer.concat(bodies.flatMap((body) => encodeFrame('length', body)))

/** Subscribes to `channel`, runs `start` (which sends or writes `expected`), and waits until `expected` arrived, frame for frame. */
async function receives(channel: Channel, expected: Uint8Array[], start: () => void = () => {}): Promise<void> {
  const got: Uint8Array[] = []
  channel.onMessage((m) => got.push(m as Uint8Array))
  start()
  await until(() => got.length === expected.length)
  assert.deepEqual(plain(got), expected)
}
/** A `start` for `receives`: `channel` sends each body (an echo brings them back). */
const sendsAll = (channel: Channel, bodies: Uint8Array[]) => () => {
  for (const body of bodies) void channel.send(body)
}

/** A server on a Unix socket in a fresh directory, and a client connected to it; the accepted connection as the server gave it. */
async function connected(options: { pauseOnConnect?: boolean }): Promise<{ server: Server; client: Socket; accepted: Socket; done(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'polyplug-accepted-'))
  const path = join(dir, 's')
  const server = createServer(options)
  server.listen(path)
  await once(server, 'listening')
  const accepting = once(server, 'connection') as Promise<[Socket]>
  const client = connect(path)
  await once(client, 'connect')
  const [accepted] = await accepting
  return {
    server,
    client,
    accepted,
    done() {
      client.destroy()
      server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

describe('adoptReads', () => {
  it('on this Node, a connection accepted paused is adopted: a new socket reads into the channel, the large body in place, and nothing sent before is lost', async (t) => {
    const { client, accepted, done } = await connected(PAUSE_ON_CONNECT)
    try {
      const sent = [pattern(9, 1), pattern(1 << 20, 2), pattern(5, 3)]
      // Written before the adoption: the kernel holds it until the new socket reads.
      client.write(wire(sent))
      const { socket, reads } = adoptReads(accepted)
      assert.ok(reads, 'the accepted connection was not adopted: Node no longer offers `_handle` / `handle` as polyplug reads them (src/transports/adopt-reads.ts)')
      assert.notEqual(socket, accepted)
      const targets = mock.method(FrameDecoder.prototype, 'readTarget')
      t.after(() => targets.mock.restore())
      const host = streamChannel(socket, socket, { reads })
      await receives(host, sent)
      assert.ok(targets.mock.calls.some((call) => (call.result?.byteLength ?? 0) > 0), 'the 1 MiB body was not read in place')
      // Both directions work on the adopted socket: its answer reaches the client.
      const answer = once(client, 'data')
      await host.send(pattern(3, 4))
      const [bytes] = (await answer) as [Buffer]
      assert.deepEqual(new Uint8Array(bytes), new Uint8Array(wire([pattern(3, 4)])))
      // The socket given up lives as long as the connection, then closes with it (the server counts it until then).
      assert.equal(accepted.destroyed, false)
      await host.close()
      client.end()
      await until(() => accepted.destroyed)
    } finally {
      done()
    }
  })

  it('keeps a socket that already read, which the channel reads through its events, from its first byte', async () => {
    const { client, accepted, done } = await connected({})
    try {
      client.write(wire([pattern(70_000, 5)]))
      await until(() => accepted.readableLength > 0)
      const adopted = adoptReads(accepted)
      assert.equal(adopted.socket, accepted)
      assert.equal(adopted.reads, undefined)
      const host = streamChannel(accepted, accepted)
      await receives(host, [pattern(70_000, 5)])
      await host.close()
    } finally {
      done()
    }
  })

  it('a connection accepted paused and kept as it is (the fallback) is resumed by the channel that reads it', async () => {
    const { client, accepted, done } = await connected(PAUSE_ON_CONNECT)
    try {
      const host = streamChannel(accepted, accepted)
      await receives(host, [pattern(12, 6)], () => client.write(wire([pattern(12, 6)])))
      await host.close()
    } finally {
      done()
    }
  })
})

describe('the unix and tcp transports read the host end in place', () => {
  for (const transport of [unixTransport, tcpTransport]) {
    it(`${transport.name}: 1 MiB frames both ways between the host's end and the plugin's, and the endpoint disposes`, async (t) => {
      const endpoint = await transport.prepare({ id: 'accepted', framing: 'length', maxFrameBytes: 1 << 24 })
      const target = endpoint.env.POLYPLUG_SOCKET ? { path: endpoint.env.POLYPLUG_SOCKET } : parseAddress(endpoint.env.POLYPLUG_ADDRESS as string)
      const targets = mock.method(FrameDecoder.prototype, 'readTarget')
      t.after(() => targets.mock.restore())
      const [plugin, host] = await Promise.all([connectSocket(target, { framing: 'length' }), endpoint.connect({ stdin: null, stdout: null }, new AbortController().signal)])
      plugin.onMessage((m) => void plugin.send(m as Uint8Array))
      const sent = [pattern(1 << 20, 7), pattern(30, 8), pattern(1 << 20, 9)]
      await receives(host, sent, sendsAll(host, sent))
      // Both ends read large bodies in place: the host's decoder handed out read targets, as the plugin's did.
      const decoders = new Set(targets.mock.calls.filter((call) => (call.result?.byteLength ?? 0) > 0).map((call) => call.this))
      assert.equal(decoders.size, 2)
      await Promise.all([plugin.close(), host.close()])
      await endpoint.dispose()
    })
  }
})

describe("the stdio transport reads the child's stdout in place", () => {
  it("1 MiB frames both ways through a child that copies its stdin to its stdout, and the child's 'close' waits for the channel", async (t) => {
    const endpoint = await stdioTransport.prepare({ id: 'adopted', framing: 'length', maxFrameBytes: 1 << 24 })
    const child = spawn(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { stdio: ['pipe', 'pipe', 'inherit'] })
    let closed = false
    child.once('close', () => (closed = true))
    const targets = mock.method(FrameDecoder.prototype, 'readTarget')
    t.after(() => targets.mock.restore())
    const host = await endpoint.connect({ stdin: child.stdin, stdout: child.stdout }, new AbortController().signal)
    const sent = [pattern(1 << 20, 10), pattern(30, 11), pattern(1 << 20, 12)]
    await receives(host, sent, sendsAll(host, sent))
    assert.ok(targets.mock.calls.some((call) => (call.result?.byteLength ?? 0) > 0), "the child's answer was not read in place")
    assert.equal(closed, false)
    await host.close()
    await until(() => closed)
    await endpoint.dispose()
  })
})

describe("a plugin's stdin is read in place", () => {
  it('a Node child adopts its own stdin before reading it, and echoes 1 MiB frames through a channel over it', async () => {
    const adopt = new URL('../src/transports/adopt-reads.js', import.meta.url).href
    const stream = new URL('../src/transports/stream.js', import.meta.url).href
    // The child says on stderr whether its stdin was adopted, then echoes every frame.
    const script = `
      const { adoptReads } = await import(${JSON.stringify(adopt)})
      const { streamChannel } = await import(${JSON.stringify(stream)})
      const { socket, reads } = adoptReads(process.stdin)
      process.stderr.write(reads ? 'adopted\\n' : 'kept\\n')
      const channel = streamChannel(socket, process.stdout, { reads })
      channel.onMessage((m) => void channel.send(m))
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] })
    let said = ''
    child.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()))
    const host = streamChannel(child.stdout, child.stdin)
    const sent = [pattern(1 << 20, 13), pattern(7, 14)]
    await receives(host, sent, sendsAll(host, sent))
    assert.equal(said, 'adopted\n')
    await host.close()
    await once(child, 'close')
  })
})
