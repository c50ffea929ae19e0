/**
 * The plugin side of every byte-stream sidecar transport, driven by the environment the host set
 * (docs/protocol.md, "Environment"). The Node process carrier uses it; kits in other languages
 * implement the same few lines.
 */
import type { Channel } from '../channels/channel.js'
import { DEFAULT_MAX_FRAME_BYTES, isFramingName, type FramingName } from '../framing/framing.js'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import { fifoPluginChannel } from './fifo.js'
import { shmPluginChannel } from './shm/sidecar.js'
import { stdioStreams } from './stdio.js'
import { streamChannel } from './stream.js'
import { connectSocket, parseAddress } from './socket.js'

export type Env = Record<string, string | undefined>

function need(env: Env, name: string): string {
  const value = env[name]
  if (!value) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `${name} is not set`)
  return value
}

/** Opens the channel to the host named by POLYPLUG_TRANSPORT and its variables. */
export async function connectPlugin(env: Env = process.env): Promise<Channel> {
  const framingName = env.POLYPLUG_FRAMING ?? 'length'
  if (!isFramingName(framingName)) throw new PolyplugError(ErrorCodes.FRAME_INVALID, `unknown POLYPLUG_FRAMING ${JSON.stringify(framingName)}`)
  const framing: FramingName = framingName
  const options = { framing, maxFrameBytes: Number(env.POLYPLUG_MAX_FRAME_BYTES) || DEFAULT_MAX_FRAME_BYTES }
  switch (env.POLYPLUG_TRANSPORT ?? 'stdio') {
    case 'stdio': {
      const { readable, writable } = stdioStreams()
      return streamChannel(readable, writable, options)
    }
    case 'fifo':
      return fifoPluginChannel(need(env, 'POLYPLUG_FIFO_IN'), need(env, 'POLYPLUG_FIFO_OUT'), options)
    case 'unix':
      return connectSocket({ path: need(env, 'POLYPLUG_SOCKET') }, options)
    case 'tcp':
      return connectSocket(parseAddress(need(env, 'POLYPLUG_ADDRESS')), options)
    case 'shm':
      return shmPluginChannel(env, options.maxFrameBytes)
    default:
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `transport ${JSON.stringify(env.POLYPLUG_TRANSPORT)} is not a byte stream this carrier speaks`)
  }
}
