/**
 * A channel's kernel buffers grow once a large frame crosses it (src/transports/buffer-size.ts).
 * A fifo plugin's pipes hold 64 KiB until a frame larger than that crosses them; then the host
 * grows both (F_SETPIPE_SZ through koffi, src/transports/buffer-size.ts) so a 1 MiB message crosses
 * in one fill instead of sixteen. Read back from the kernel (F_GETPIPE_SZ) on the host's own fds
 * of the two FIFOs, found through /proc/self/fd. A Unix socket's and a child's stdio socketpair's
 * send buffer (SO_SNDBUF, read back with getsockopt) grows the same way.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { FrameDecoder } from '../src/framing/framing.js'
import { DEFAULT_PIPE_BYTES, GROWN_PIPE_BYTES, pipeBytes, sendBufferBytes, streamFd } from '../src/transports/buffer-size.js'
import { socketChannel } from '../src/transports/socket.js'
import { stdioTransport } from '../src/transports/stdio.js'
import { until } from './support/wait.js'
import { examplesDir } from './support/paths.js'
import { npm, requires } from './support/requires.js'

/** The capacities of the FIFOs this process has open, by path. */
function fifoSizes(): Map<string, number> {
  const sizes = new Map<string, number>()
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string
    try {
      target = readlinkSync(join('/proc/self/fd', name))
    } catch {
      continue // closed meanwhile
    }
    if (!/\/(in|out)$/.test(target) || !target.includes('polyplug')) continue
    const size = pipeBytes(Number(name))
    if (size !== undefined) sizes.set(target, size)
  }
  return sizes
}

const skip = process.platform !== 'linux' ? 'F_SETPIPE_SZ is Linux only' : requires(npm('koffi'))

describe('fifo pipes grow once a large frame crosses', { skip }, () => {
  let host: Host

  before(async () => {
    host = await createHost({ plugins: [join(examplesDir, 'js-process-fifo')], logger: () => {} })
  })

  after(async () => {
    await host?.close()
  })

  it('small messages leave both pipes at 64 KiB; a 1 MiB echo grows both, and comes back exactly', { timeout: 120_000 }, async () => {
    const plugin = host.plugin('echo-process-fifo')
    const before = fifoSizes()
    assert.equal(await plugin.call('echo', ['small']), 'small')
    const small = fifoSizes()
    const added = [...small.keys()].filter((path) => !before.has(path))
    assert.equal(added.length, 2, `the host holds the plugin's two FIFOs open: ${[...small.keys()].join(', ')}`)
    for (const path of added) assert.equal(small.get(path), DEFAULT_PIPE_BYTES, `${path} keeps its default size`)
    const payload = randomBytes(1024 * 1024)
    const echoed = await plugin.call('echo', [payload])
    assert.ok(echoed instanceof Uint8Array && Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).equals(payload), 'the 1 MiB echo round-trips')
    const grown = Math.min(GROWN_PIPE_BYTES, Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8')))
    const large = fifoSizes()
    for (const path of added) assert.equal(large.get(path), grown, `${path} was grown`)
  })
})

describe('a Unix socket\'s send buffer grows once a large frame leaves through it', { skip }, () => {
  it('unix: 1 MiB frames grow the sending end, small ones leave it; the frames arrive exactly', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-sndbuf-'))
    const path = join(dir, 's.sock')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(path, resolve))
    const accepted = once(server, 'connection') as Promise<[Socket]>
    const client = createConnection(path)
    const [theirs] = await accepted
    const channel = socketChannel(client, { growSendBuffer: true })
    const frames = new FrameDecoder('length', 64 << 20)
    const got: Uint8Array[] = []
    theirs.on('data', (chunk: Buffer) => got.push(...frames.push(chunk)))
    try {
      const fd = streamFd(client)!
      const initial = sendBufferBytes(fd)!
      await channel.send(new Uint8Array(1000))
      assert.equal(sendBufferBytes(fd), initial, 'a small frame leaves the buffer as it was')
      const payload = randomBytes(1024 * 1024)
      await channel.send(payload)
      await until(() => got.length === 2, 0, 'both frames arrive')
      assert.ok(Buffer.from(got[1]!).equals(payload), 'the 1 MiB frame arrives exactly')
      assert.ok(sendBufferBytes(fd)! >= 2 * GROWN_PIPE_BYTES, `the send buffer grew from ${initial} to ${sendBufferBytes(fd)} bytes`)
    } finally {
      await channel.close()
      theirs.destroy()
      server.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('stdio: the host\'s end of the child\'s stdin (a socketpair) grows once a 1 MiB frame goes to the child', { timeout: 60_000 }, async () => {
    const transport = await stdioTransport.prepare({ id: 'sndbuf', framing: 'length', maxFrameBytes: 64 << 20 } as Parameters<typeof stdioTransport.prepare>[0])
    const child = spawn('cat', { stdio: ['pipe', 'pipe', 'inherit'] })
    const channel = await transport.connect({ stdin: child.stdin, stdout: child.stdout } as Parameters<typeof transport.connect>[0], new AbortController().signal)
    const got: unknown[] = []
    channel.onMessage((message) => got.push(message))
    try {
      const fd = streamFd(child.stdin)!
      const initial = sendBufferBytes(fd)!
      const payload = randomBytes(1024 * 1024)
      await channel.send(payload)
      await until(() => got.length === 1, 0, 'cat echoes the frame')
      assert.ok(Buffer.from(got[0] as Uint8Array).equals(payload), 'the 1 MiB frame comes back exactly')
      assert.ok(sendBufferBytes(fd)! > initial, `the send buffer grew from ${initial} to ${sendBufferBytes(fd)} bytes`)
    } finally {
      await channel.close()
      child.kill()
    }
  })
})
