/**
 * `fifo`: two named pipes in a private directory (0700), created with mkfifo(1) and removed after.
 * POLYPLUG_FIFO_IN is read by the plugin, POLYPLUG_FIFO_OUT written by it. The open order avoids
 * both deadlock and a spurious EOF: the host opens OUT for reading (non-blocking) before spawning;
 * the plugin opens OUT for writing, then IN for reading (blocking until the host opens it); the host
 * polls a non-blocking open of IN for writing, which succeeds once the plugin is in that open.
 * Windows has no mkfifo: its equivalent is a named pipe (\\.\pipe\NAME), which behaves like `unix`.
 */
import { closeSync } from 'node:fs'
import { Socket, type SocketConstructorOpts } from 'node:net'
import { join } from 'node:path'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { privateDir, type SidecarContext, type SidecarEndpoint, type SidecarTransport } from './sidecar.js'
import { streamChannel, type StreamChannelOptions } from './stream.js'
import type { Channel } from '../channels/channel.js'
import type { PluginSide } from '../registry/types.js'
import { channelPluginSide, requireEnv } from './sidecar-plugin.js'
import { pipeGrower } from './buffer-size.js'
import { DirectReads, type OnRead } from './direct-reads.js'
import { makeFifoPair, openPluginEnds, openWriterWhenReaderArrives } from './fifo-pair.js'

export const fifoTransport: SidecarTransport = {
  name: 'fifo',
  async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
    const dir = await privateDir()
    const inPath = join(dir.path, 'in')
    const outPath = join(dir.path, 'out')
    let readFd: number | undefined
    try {
      readFd = await makeFifoPair(inPath, outPath)
    } catch (cause) {
      await dir.remove()
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot create FIFOs: ${(cause as Error).message}`, { plugin: context.id, cause })
    }
    let taken = false
    return {
      env: { POLYPLUG_FIFO_IN: inPath, POLYPLUG_FIFO_OUT: outPath },
      files: { read: [inPath], write: [outPath] },
      usesStdio: false,
      async connect(_child, signal) {
        const writeFd = await openWriterWhenReaderArrives(inPath, signal)
        taken = true
        // The host grows both pipes once a large frame crosses (buffer-size.ts); the plugin side need not.
        return fdChannel(readFd as number, writeFd, { framing: context.framing, maxFrameBytes: context.maxFrameBytes, onFrameBytes: pipeGrower([readFd, writeFd]) })
      },
      async dispose() {
        if (!taken && readFd !== undefined) closeSync(readFd)
        readFd = undefined
        await dir.remove()
      },
    }
  },
}

/** A channel over two pipe fds; libuv reads and writes them without the thread pool, reading into the channel's memory. */
function fdChannel(readFd: number, writeFd: number, options: StreamChannelOptions): Channel {
  const reads = new DirectReads()
  const readOptions: SocketConstructorOpts & { onread: OnRead } = { fd: readFd, readable: true, writable: false, onread: reads.onread }
  const readable = new Socket(readOptions)
  const writable = new Socket({ fd: writeFd, readable: false, writable: true })
  return streamChannel(readable, writable, { ...options, reads, onDispose: () => writable.destroySoon() })
}

/** Plugin side: open OUT for writing first, then IN for reading (blocks until the host opens it). */
export async function fifoPluginChannel(inPath: string, outPath: string, options: StreamChannelOptions): Promise<Channel> {
  const { readFd, writeFd } = await openPluginEnds(inPath, outPath)
  return fdChannel(readFd, writeFd, options)
}

export const fifoPluginSide: PluginSide = channelPluginSide(({ env, framing, maxFrameBytes }) =>
  fifoPluginChannel(requireEnv(env, 'POLYPLUG_FIFO_IN'), requireEnv(env, 'POLYPLUG_FIFO_OUT'), { framing, maxFrameBytes }),
)
