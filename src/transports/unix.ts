/**
 * `unix`: the host listens on a Unix domain socket in a private directory (0700) and the plugin
 * connects to POLYPLUG_SOCKET. sun_path holds at most 107 bytes on Linux (103 on macOS): when the
 * temp directory is too deep, /tmp is used instead, and if that is still too long the launch fails
 * with TRANSPORT_UNAVAILABLE rather than binding a truncated path.
 */
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { acceptOne, closeServer, privateDir, type SidecarContext, type SidecarEndpoint, type SidecarTransport } from './sidecar.js'
import type { PluginSide } from '../registry/types.js'
import { channelPluginSide, requireEnv } from './sidecar-plugin.js'
import { connectSocket, socketChannel } from './socket.js'
import { adoptReads, PAUSE_ON_CONNECT } from './adopt-reads.js'

/** Longest socket path we bind: Linux's sun_path minus its terminating NUL. */
export const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103
const SOCKET_NAME = 'plugin.sock'
// 'polyplug-' + 6 random characters + '/' + name
const DIR_OVERHEAD = 'polyplug-XXXXXX/'.length + SOCKET_NAME.length + 1

export const unixTransport: SidecarTransport = {
  name: 'unix',
  async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
    const base = [tmpdir(), '/tmp'].find((b) => b.length + DIR_OVERHEAD <= MAX_SOCKET_PATH)
    if (!base) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `no temp directory gives a socket path under ${MAX_SOCKET_PATH} bytes`, { plugin: context.id })
    const dir = await privateDir(base)
    const path = join(dir.path, SOCKET_NAME)
    const server = createServer(PAUSE_ON_CONNECT)
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(path, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (cause) {
      await dir.remove()
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot listen on ${path}: ${(cause as Error).message}`, { plugin: context.id, cause })
    }
    return {
      env: { POLYPLUG_SOCKET: path },
      usesStdio: false,
      async connect(_child, signal) {
        const { socket, reads } = adoptReads(await acceptOne(server, signal))
        return socketChannel(socket, { framing: context.framing, maxFrameBytes: context.maxFrameBytes, reads, growSendBuffer: true })
      },
      async dispose() {
        // Remove the path first: closing the server waits for its connection to end.
        await dir.remove()
        await closeServer(server)
      },
    }
  },
}

export const unixPluginSide: PluginSide = channelPluginSide(({ env, framing, maxFrameBytes }) => connectSocket({ path: requireEnv(env, 'POLYPLUG_SOCKET') }, { framing, maxFrameBytes }))
