/**
 * The host's ends of stdio, unix and tcp read like the sockets polyplug creates (direct-reads.ts):
 * a large frame's body in place, anything else through one reused scratch buffer. Node offers
 * `onread` only to a socket a program constructs; a server's connection and a child's stdout are
 * constructed by Node. So their libuv handle is given to a new `net.Socket` constructed with
 * `onread`, as Node itself constructs sockets around handles it already has (a child's stdio, a
 * handle sent over IPC), before anything was read from it: a server accepts paused
 * (`pauseOnConnect`), and a child's stdout is adopted in the same tick as the spawn, its reading
 * stopped first. The old Socket lets go of the handle and is destroyed when the new one closes,
 * which closes nothing (it holds no handle any more) and keeps what waits for it (a server's count
 * of connections, a child's 'close') waiting as long as the connection lives.
 *
 * This reads `_handle` and passes the undocumented `handle` option. Where either is not what it is
 * on Node 20–24, or the old socket already read or is being read, the socket is kept as it is and
 * read through its 'data' events (the channel resumes it); test/adopt-reads.test.ts fails when the
 * adoption stops happening on the Node it runs on.
 */
import { Socket, type SocketConstructorOpts } from 'node:net'
import type { Readable } from 'node:stream'
import { DirectReads } from './direct-reads.js'

/** A libuv stream handle as Node's net.Socket drives it (stream_wrap), as far as the adoption needs. */
interface StreamHandle {
  readStart(): number
  readStop(): number
  useUserBuffer(buffer: Uint8Array): void
  reading?: boolean
}

/** The server option under which `adoptReads` can take a connection before anything was read. */
export const PAUSE_ON_CONNECT = { pauseOnConnect: true } as const

/** A stream read in place: the socket to use from now on, and its reads when adopted. */
export interface AdoptedSocket<S extends Readable = Socket> {
  socket: Socket | S
  /** Undefined when the stream was kept (the fallback): read it through its 'data' events. */
  reads?: DirectReads
}

/**
 * `stream` (a connection accepted by a server made with PAUSE_ON_CONNECT, or a child's stdout
 * before anything was read from it) as a socket whose reads go into the channel's memory. When
 * adopted, the returned socket replaces `stream`, which must not be used after.
 */
export function adoptReads<S extends Readable>(stream: S): AdoptedSocket<S> {
  const holder = stream as unknown as { _handle?: unknown }
  const handle = holder._handle
  if (!isStreamHandle(handle) || !(stream instanceof Socket) || stream.bytesRead > 0 || stream.readableLength > 0 || stream.readableFlowing === true || stream.listenerCount('data') > 0) return { socket: stream }
  // A child's stdout reads from its spawn on: stopped here, in the tick that made it, before any read was delivered.
  const wasReading = handle.reading === true
  if (wasReading) {
    if (handle.readStop() !== 0) return { socket: stream }
    handle.reading = false
  }
  const reads = new DirectReads()
  let socket: Socket
  try {
    socket = new Socket({ handle, readable: true, writable: stream.writable, allowHalfOpen: stream.allowHalfOpen, onread: reads.onread } as SocketConstructorOpts)
  } catch {
    if (wasReading) {
      handle.reading = true
      handle.readStart()
    }
    return { socket: stream }
  }
  holder._handle = null
  socket.once('close', () => stream.destroy())
  return { socket, reads }
}

function isStreamHandle(handle: unknown): handle is StreamHandle {
  if (typeof handle !== 'object' || handle === null) return false
  const h = handle as Partial<StreamHandle>
  return typeof h.readStart === 'function' && typeof h.readStop === 'function' && typeof h.useUserBuffer === 'function' && typeof h.reading === 'boolean'
}
