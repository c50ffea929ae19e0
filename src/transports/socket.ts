/**
 * A framed channel over a socket, unix or tcp: what the unix and tcp transports (host side), the
 * plugin side of both, and remote `tcp://` placement share.
 */
import { connect, type NetConnectOpts, type Socket } from 'node:net'
import type { Channel } from '../channels/channel.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { sendBufferGrower } from './buffer-size.js'
import { DirectReads } from './direct-reads.js'
import { streamChannel, type StreamChannelOptions } from './stream.js'

/** `growSendBuffer`: a Unix socket's send buffer grows once a large frame crosses (buffer-size.ts); not TCP, whose buffers the kernel tunes. */
export function socketChannel(socket: Socket, options: StreamChannelOptions & { growSendBuffer?: boolean }): Channel {
  socket.setNoDelay?.(true)
  const { growSendBuffer, ...rest } = options
  return streamChannel(socket, socket, growSendBuffer ? { ...rest, onFrameBytes: sendBufferGrower(socket) } : rest)
}

/** Plugin side (unix path or tcp host:port): connect, then frame over the socket, read into the channel's memory (direct-reads.ts). */
export function connectSocket(target: { path: string } | { host: string; port: number }, options: StreamChannelOptions): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const reads = new DirectReads()
    const socket = connect({ ...target, onread: reads.onread } as NetConnectOpts)
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socketChannel(socket, { ...options, reads, growSendBuffer: 'path' in target }))
    })
  })
}

/** Parses `host:port` (IPv6 in brackets: `[::1]:4000`). */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(address)
  if (!match) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `POLYPLUG_ADDRESS ${JSON.stringify(address)} is not host:port`)
  return { host: match[1] as string, port: Number(match[2]) }
}
