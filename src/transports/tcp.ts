/**
 * `tcp`: the host listens on 127.0.0.1, port 0 (the kernel picks one), and the plugin connects to
 * POLYPLUG_ADDRESS. Any local process could connect first, so the first connection must prove
 * itself with POLYPLUG_TOKEN in its `$/hello` answer before the host serves any request
 * (src/host/plugin.ts); a wrong token fails the launch with PERMISSION_DENIED. Nagle is off.
 */
import { createServer } from 'node:net'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { acceptOne, closeServer, type SidecarContext, type SidecarEndpoint, type SidecarTransport } from './sidecar.js'
import type { Channel } from '../channels/channel.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../framing/framing.js'
import type { DialRequest, PluginSide } from '../registry/types.js'
import { channelPluginSide, requireEnv } from './sidecar-plugin.js'
import { connectSocket, parseAddress, socketChannel } from './socket.js'
import { adoptReads, PAUSE_ON_CONNECT } from './adopt-reads.js'

export const tcpTransport: SidecarTransport = {
  name: 'tcp',
  async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
    const server = createServer({ noDelay: true, ...PAUSE_ON_CONNECT })
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', (cause) => reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot listen on loopback: ${cause.message}`, { plugin: context.id, cause })))
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
    })
    return {
      env: { POLYPLUG_ADDRESS: `127.0.0.1:${port}` },
      usesStdio: false,
      network: { connect: [port] },
      async connect(_child, signal) {
        const { socket, reads } = adoptReads(await acceptOne(server, signal))
        return socketChannel(socket, { framing: context.framing, maxFrameBytes: context.maxFrameBytes, reads })
      },
      dispose: () => closeServer(server),
    }
  },
}

export const tcpPluginSide: PluginSide = channelPluginSide(({ env, framing, maxFrameBytes }) => connectSocket(parseAddress(requireEnv(env, 'POLYPLUG_ADDRESS')), { framing, maxFrameBytes }))

/** `remote` over tcp://host:port: length-prefixed JSON, as a tcp sidecar speaks it. */
export function dialTcp({ id, url }: DialRequest): Promise<Channel> {
  return connectSocket(parseAddress(new URL(url).host), { framing: 'length', maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }).catch((cause: unknown) => {
    throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot connect to ${url}: ${(cause as Error).message}`, { plugin: id, cause })
  })
}
