/** The channel conformance suite over the real byte-stream transports: pipes of real processes, FIFOs, sockets. */
import { spawn } from 'node:child_process'
import { fifoPluginChannel, fifoTransport } from '../src/transports/fifo.js'
import type { SidecarTransport } from '../src/transports/sidecar.js'
import { streamChannel } from '../src/transports/stream.js'
import { parseAddress, tcpTransport } from '../src/transports/tcp.js'
import { connectSocket, unixTransport } from '../src/transports/unix.js'
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
})

/** The host end from the transport, the plugin end as a sidecar would open it, in this process. */
function viaTransport(transport: SidecarTransport, pluginSide: (env: Record<string, string>) => Promise<Channel>) {
  return async () => {
    const endpoint = await transport.prepare({ id: 't', ...options })
    const controller = new AbortController()
    const [host, plugin] = await Promise.all([endpoint.connect({ stdin: null, stdout: null }, controller.signal), pluginSide(endpoint.env)])
    return { host, plugin, dispose: () => endpoint.dispose() }
  }
}

describeChannel('fifo (named pipes)', viaTransport(fifoTransport, (env) => fifoPluginChannel(env.POLYPLUG_FIFO_IN as string, env.POLYPLUG_FIFO_OUT as string, options)))
describeChannel('unix (domain socket)', viaTransport(unixTransport, (env) => connectSocket({ path: env.POLYPLUG_SOCKET as string }, options)))
describeChannel('tcp (loopback)', viaTransport(tcpTransport, (env) => connectSocket(parseAddress(env.POLYPLUG_ADDRESS as string), options)))
