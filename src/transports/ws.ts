/**
 * `ws` transport: one WebSocket, one JSON-RPC message per frame: a text frame of JSON, or — once
 * `$/hello` agreed on bytes as attachments — a binary frame of JSON with attachments
 * (docs/protocol.md §4.1, transports/message-wire.ts). Used alone (a Channel over a socket) and
 * as the two-way half of the `http` transport (see http.ts).
 * Compression is always off: `ws` would otherwise deflate every small frame (~10x slower).
 */
import { WebSocket } from 'ws'
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel, ChannelSink } from '../channels/channel.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../framing/framing.js'
import { wireBuffer, type WireForm } from './message-wire.js'

/** Default largest frame accepted, in bytes (matches the Peer's default message limit). */
/** The header that ties a POST to a WebSocket session (docs/protocol.md §2.6); client and server both use it. */
export const SESSION_HEADER = 'x-polyplug-session'

/** A frame's payload as one Buffer (`ws` hands out a Buffer, an ArrayBuffer or fragments, by its binaryType). */
function frameBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

/**
 * Wires a socket's events to a sink; returns a detach function. Every frame reaches `onFrame` as
 * its bytes and whether it was a binary frame: a text frame's bytes are UTF-8 that `ws` has
 * validated already (RFC 6455 §8.1: it closes the socket with 1007 otherwise), so the reader need
 * not validate them again (message-wire.ts `decodeFrame`). A drop is reported as TRANSPORT_UNAVAILABLE.
 */
export function attachSocket(socket: WebSocket, sink: ChannelSink, onFrame: (data: Buffer, binary: boolean) => void): () => void {
  const onMessage = (data: WebSocket.RawData, binary: boolean) => onFrame(frameBytes(data), binary)
  const onClose = (code: number, reason: Buffer) => {
    // 1000 is a clean close by the other side; anything else (1006: dropped) is a transport failure.
    if (code === 1000) sink.closed()
    else sink.closed(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `WebSocket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`))
  }
  const onError = () => {} // 'close' follows every 'error'; reporting happens there
  socket.on('message', onMessage)
  socket.on('close', onClose)
  socket.on('error', onError)
  return () => {
    socket.off('message', onMessage)
    socket.off('close', onClose)
  }
}

/** Past this many bytes waiting in `ws`'s buffer, a send returns a promise that settles once written: the Peer's backpressure. */
const BUFFERED_LIMIT = 1024 * 1024

/**
 * Sends one message as one frame — text for JSON, binary for JSON with attachments. The first
 * frame of a tick is written at once; the frames sent after it in the same tick leave together in
 * one write: the socket under `ws` is corked until `process.nextTick` (corkForTick).
 * A send is taken at once while little waits to be written (its failure closes the socket, and
 * the channel with it); past BUFFERED_LIMIT it returns a promise that resolves once `ws` has
 * written the frame (rejects with TRANSPORT_UNAVAILABLE).
 */
export function sendFrame(socket: WebSocket, message: string | WireForm): void | Promise<void> {
  if (socket.readyState !== WebSocket.OPEN) {
    return Promise.reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'WebSocket is not open'))
  }
  // JSON text goes as it is: no WireForm wrapped around it, and `ws` makes a string a text frame by itself.
  const text = typeof message === 'string' ? message : typeof message.data === 'string' ? message.data : undefined
  corkForTick(socket)
  if (text !== undefined) {
    if (socket.bufferedAmount < BUFFERED_LIMIT) return socket.send(text)
    return new Promise((resolve, reject) => socket.send(text, (error) => settleSend(error, resolve, reject)))
  }
  const form = message as WireForm
  const data = wireBuffer(form)
  const options = form.binary ? BINARY_FRAME : TEXT_FRAME
  if (socket.bufferedAmount < BUFFERED_LIMIT) return socket.send(data, options)
  return new Promise((resolve, reject) => socket.send(data, options, (error) => settleSend(error, resolve, reject)))
}

/** `ws` copies a send's options into its own object: these are shared, not made per frame. */
const BINARY_FRAME = Object.freeze({ binary: true })
const TEXT_FRAME = Object.freeze({ binary: false })

function settleSend(error: Error | undefined, resolve: () => void, reject: (error: PolyplugError) => void): void {
  if (error) reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, error.message, { cause: error }))
  else resolve()
}

/**
 * The TCP sockets `corkForTick` corked in this tick (the first `corkedCount` slots), uncorked
 * together by one `process.nextTick` (after the microtasks of this tick, so the frames its promise
 * callbacks send join them). A socket corked already is not corked again: `writableCorked` says
 * so, where a set of corked sockets (or a mark on the socket, which changes its shape for every
 * stream call site) cost a table entry and a tick with its own arguments per frame. The slots are
 * kept between ticks: emptying the array (`length = 0`) freed its store, and the next tick's first
 * cork made a new one (~130 bytes per frame sent, measured by the heap sampler).
 */
const corked: (CorkableStream | undefined)[] = []
let corkedCount = 0
/**
 * A frame was sent in this tick (until its `endTick`). The first frame of a tick is not corked: a
 * tick that sends one frame (a call or an answer at one in flight) writes it at once, and a cork
 * could only delay it; the frames after it in the same tick are corked and leave in one write.
 */
let framesThisTick = false

interface CorkableStream {
  cork?: () => void
  uncork(): void
  readonly writableCorked?: number
}

/** Corks the TCP socket under `socket` (ws keeps it as `_socket`) until the end of this tick, unless this is the tick's first frame. */
function corkForTick(socket: WebSocket): void {
  const stream = (socket as unknown as { _socket?: CorkableStream })._socket
  if (!stream?.cork || stream.writableCorked !== 0) return
  if (!framesThisTick) {
    framesThisTick = true
    process.nextTick(endTick)
    return
  }
  stream.cork()
  corked[corkedCount++] = stream
}

function endTick(): void {
  // By index, the count read each time: a socket corked while another one is uncorked is uncorked here too.
  for (let i = 0; i < corkedCount; i++) {
    const stream = corked[i]!
    corked[i] = undefined // a closed socket is not kept
    stream.uncork()
  }
  corkedCount = 0
  framesThisTick = false
}

/** A Channel over an open WebSocket, carrying `text`. Closing the channel closes the socket. */
export function wsChannel(socket: WebSocket): Channel {
  let detach = () => {}
  return normalizeChannel({
    carries: 'text',
    open(sink) {
      detach = attachSocket(socket, sink, (data) => sink.message(data.toString('utf8')))
    },
    send(message) {
      return sendFrame(socket, message as string)
    },
    close() {
      detach()
      return closeSocket(socket)
    },
  })
}

/** Closes cleanly (1000) and resolves once the socket is closed; terminates if the close handshake stalls. */
export function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.terminate(), 1000)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate()
    else socket.close(1000)
  })
}

export interface ConnectWsOptions {
  /** Sent as `Authorization: Bearer <token>` on the upgrade. */
  token?: string
  maxFrameBytes?: number
  /** TLS options for wss:// (e.g. a self-signed CA). */
  ca?: string | Buffer
  headers?: Record<string, string>
  /** Deadline for the TCP connect plus the upgrade, in ms. Default 30 000: a server that accepts and never answers must not hold the caller forever. */
  handshakeTimeoutMs?: number
}

/** Opens a WebSocket (compression off) and resolves once it is open; a refused upgrade rejects with its code. */
export function openSocket(url: string, options: ConnectWsOptions = {}): Promise<WebSocket> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  const socket = new WebSocket(url, {
    headers,
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    handshakeTimeout: options.handshakeTimeoutMs ?? 30_000,
    ...(options.ca ? { ca: options.ca } : {}),
  })
  return new Promise((resolve, reject) => {
    const fail = (error: PolyplugError) => {
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.terminate()
      reject(error)
    }
    socket.once('open', () => {
      socket.removeAllListeners('unexpected-response')
      resolve(socket)
    })
    socket.once('unexpected-response', (_req, res) => {
      const code = res.statusCode === 401 || res.statusCode === 403 ? ErrorCodes.PERMISSION_DENIED : ErrorCodes.TRANSPORT_UNAVAILABLE
      fail(new PolyplugError(code, `WebSocket upgrade to ${url} refused with HTTP ${res.statusCode}`, { data: { status: res.statusCode } }))
    })
    socket.once('error', (error) => fail(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot connect to ${url}: ${error.message}`, { cause: error })))
  })
}

/** Connects to a WebSocket endpoint and returns a Channel over it. */
export async function connectWs(url: string, options: ConnectWsOptions = {}): Promise<Channel> {
  return wsChannel(await openSocket(url, options))
}
