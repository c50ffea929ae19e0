/** The channel conformance suite over the real byte-stream transports: pipes of real processes, FIFOs, sockets. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fifoPluginChannel, fifoTransport } from '../src/transports/fifo.js'
import type { SidecarTransport } from '../src/transports/sidecar.js'
import { streamChannel } from '../src/transports/stream.js'
import { connectSocket, parseAddress } from '../src/transports/socket.js'
import { tcpTransport } from '../src/transports/tcp.js'
import { MAX_SOCKET_PATH, unixTransport } from '../src/transports/unix.js'
import type { Channel } from '../src/channels/channel.js'
import { describeChannel } from './support/channel-suite.js'

const options = { framing: 'length' as const, maxFrameBytes: 16 * 1024 * 1024 }

// stdio: each direction runs through the stdin and stdout of a real `cat` process.
describeChannel('stdio (pipes through child processes)', async () => {
  const toPlugin = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] })
  const toHost = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] })
  const host = streamChannel(toHost.stdout, toPlugin.stdin, options)
  const plugin = streamChannel(toPlugin.stdout, toHost.stdin, options)
  return {
    host,
    plugin,
    async dispose() {
      toPlugin.kill()
      toHost.kill()
    },
  }
}, { sendsText: true })

/** The host end from the transport, the plugin end as a sidecar would open it, in this process. */
function viaTransport(transport: SidecarTransport, pluginSide: (env: Record<string, string>) => Promise<Channel>) {
  return async () => {
    const endpoint = await transport.prepare({ id: 't', ...options })
    const controller = new AbortController()
    const [host, plugin] = await Promise.all([endpoint.connect({ stdin: null, stdout: null }, controller.signal), pluginSide(endpoint.env)])
    return { host, plugin, dispose: () => endpoint.dispose() }
  }
}

describeChannel('fifo (named pipes)', viaTransport(fifoTransport, (env) => fifoPluginChannel(env.POLYPLUG_FIFO_IN as string, env.POLYPLUG_FIFO_OUT as string, options)), { sendsText: true })
describeChannel('unix (domain socket)', viaTransport(unixTransport, (env) => connectSocket({ path: env.POLYPLUG_SOCKET as string }, options)), { sendsText: true })
describeChannel('tcp (loopback)', viaTransport(tcpTransport, (env) => connectSocket(parseAddress(env.POLYPLUG_ADDRESS as string), options)), { sendsText: true })

describe('sidecar transport housekeeping', () => {
  it('fifo: the pair lives in a private 0700 directory that dispose removes', async () => {
    const endpoint = await fifoTransport.prepare({ id: 't', ...options })
    const dir = dirname(endpoint.env.POLYPLUG_FIFO_IN as string)
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    assert.ok(statSync(endpoint.env.POLYPLUG_FIFO_OUT as string).isFIFO())
    await endpoint.dispose()
    assert.equal(existsSync(dir), false)
  })

  it('unix: a temp directory too deep for sun_path falls back to /tmp; dispose removes the socket', async () => {
    const saved = process.env.TMPDIR
    const deep = mkdtempSync(join(tmpdir(), 'x'.repeat(60)))
    const deeper = join(deep, 'y'.repeat(60))
    mkdirSync(deeper)
    process.env.TMPDIR = deeper
    try {
      const endpoint = await unixTransport.prepare({ id: 't', ...options })
      const path = endpoint.env.POLYPLUG_SOCKET as string
      assert.ok(path.length <= MAX_SOCKET_PATH, `${path.length} bytes`)
      assert.ok(path.startsWith('/tmp/'))
      assert.equal(statSync(dirname(path)).mode & 0o777, 0o700)
      await endpoint.dispose()
      assert.equal(existsSync(path), false)
    } finally {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
      rmSync(deep, { recursive: true, force: true })
    }
  })

  it('tcp: listens on loopback only and hands out one connection per launch', async () => {
    const endpoint = await tcpTransport.prepare({ id: 't', ...options })
    const { host, port } = parseAddress(endpoint.env.POLYPLUG_ADDRESS as string)
    assert.equal(host, '127.0.0.1')
    const [hostEnd, pluginEnd] = await Promise.all([endpoint.connect({ stdin: null, stdout: null }, new AbortController().signal), connectSocket({ host, port }, options)])
    const intruder = createConnection({ host, port })
    const closed = await new Promise<boolean>((resolve) => {
      intruder.once('close', () => resolve(true))
      intruder.once('error', () => resolve(true))
    })
    assert.ok(closed, 'a second connection is refused')
    await hostEnd.close()
    await pluginEnd.close()
    await endpoint.dispose()
  })
})
