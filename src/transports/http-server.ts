/**
 * The plugin side of the `http` transport: an HTTP server on loopback (port 0 by default).
 *
 *   POST /rpc            a JSON-RPC request, notification or batch; answered in the HTTP response
 *   GET  /health         {"status":"ok","id":...}
 *   GET  /manifest       the plugin's manifest
 *   GET  /ws?session=S   WebSocket upgrade: notifications, plugin->host calls, progress, cancel
 *
 * Every request and the upgrade need `Authorization: Bearer <token>`; anything else gets 401 and
 * is reported through `onRefused`. One WebSocket is one *session*: a Channel handed to `onSession`
 * (the SDK serves a Peer on it). A POST naming that session (`x-polyplug-session`) is delivered to
 * the same Channel, so a `$/cancel` sent over the socket reaches the call that came by POST.
 * POSTs without a session go to one socket-less session, where the plugin can answer but not call
 * the host (its requests fail with TRANSPORT_UNAVAILABLE): the mode for clients without WebSocket.
 * Messages are JSON until the session's `$/hello` agrees on bytes as attachments; then a message
 * holding bytes is a binary frame, or an `application/octet-stream` body (transports/message-wire.ts).
 * A body or frame that cannot be read is answered with PARSE_ERROR; the session goes on.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { timingSafeEqual } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel, ChannelSink } from '../channels/channel.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { errorToWire, type RequestId } from '../rpc/wire.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../framing/framing.js'
import { attachSocket, closeSocket, sendFrame, SESSION_HEADER } from './ws.js'
import { WaitingById } from '../rpc/waiting-by-id.js'
import { acceptsAttachments, ATTACHMENTS_MEDIA_TYPE, decodeFrame, decodeWire, malformedAnswer, MessageWire, wireLength, type WireForm } from './message-wire.js'

export { SESSION_HEADER } from './ws.js'

export interface HttpServeOptions {
  token: string
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (any free port). */
  port?: number
  /** Largest POST body and WebSocket frame, in bytes. Default 16 MiB. */
  maxBodyBytes?: number
  /** Served at GET /manifest. */
  manifest?: unknown
  /** Identifies the plugin in /health. */
  id?: string
  /** TLS key and certificate (PEM): serve https:// and wss://. */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /** A new session's Channel (a WebSocket, or the socket-less POST session). */
  onSession(channel: Channel): void
  /** A request refused for a missing or wrong token (or too large a body). */
  onRefused?(info: { method: string; url: string; status: number; remote: string | undefined }): void
}

export interface HttpPluginServer {
  /** http://127.0.0.1:PORT (or https://). */
  readonly url: string
  /** Drops every WebSocket at once, without a close handshake (tests, and shedding a host). */
  dropSockets(): void
  close(): Promise<void>
}

/**
 * One POST waiting for its answers in its HTTP response, filed in its session under each request
 * id it carried. Nothing is listened for per POST: an abandoned POST (its connection closed) is
 * noticed when an answer for it comes, which then goes over the session's socket instead.
 */
interface PostWaiter {
  /** How many of its distinct request ids are still unanswered. */
  left: number
  /** A batch's answers so far, made at its first (a single request's answer is replied at once). */
  results: unknown[] | undefined
  batch: boolean
  res: ServerResponse
  /** The POST accepts an answer with attachments (its `Accept` header). */
  attach: boolean
}

class Session {
  sink!: ChannelSink
  readonly waiting = new WaitingById<PostWaiter>()
  readonly wire = new MessageWire()
  readonly channel: Channel
  constructor(readonly socket: WebSocket | undefined) {
    this.channel = normalizeChannel({
      carries: 'structured-clone', // this module encodes itself, to route answers by id
      binary: true,
      useCodec: (codec) => this.wire.use(codec),
      open: (sink) => {
        this.sink = sink
        if (socket) attachSocket(socket, sink, (data, binary) => this.receive(data, binary))
      },
      send: (message) => this.send(message),
      close: () => {
        // Calls that came by POST get an answer naming the close, like calls over the socket.
        const error = errorToWire(new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'the plugin closed the session'))
        for (const id of this.waiting.ids()) void this.send({ jsonrpc: '2.0', id, error })
        this.waiting.clear()
        return socket ? closeSocket(socket) : undefined
      },
    })
  }

  /** A frame from the socket; one that cannot be read is answered with PARSE_ERROR (id null), as a Peer would. */
  receive(data: Buffer, binary: boolean): void {
    let value: unknown
    try {
      value = decodeFrame(data, binary)
    } catch (error) {
      if (this.socket) sendFrame(this.socket, this.wire.frame(malformedAnswer(error)))?.catch(() => {})
      return
    }
    this.sink.message(value)
  }

  send(message: unknown): void | Promise<void> {
    // Only answers can be waited for by a POST; a session whose calls all come over its socket has none waiting.
    if (this.waiting.size > 0) {
      const m = message as { id?: RequestId; method?: string }
      const waiter = m.method === undefined && m.id !== undefined && m.id !== null ? this.waiting.get(m.id) : undefined
      if (waiter) {
        this.waiting.delete(m.id!)
        // Its POST was abandoned: the answer goes the way a call over the socket is answered.
        if (!waiter.res.destroyed) {
          if (!waiter.batch) return reply(waiter.res, 200, message, this.wire, waiter.attach)
          const results = (waiter.results ??= [])
          results.push(message)
          if (--waiter.left === 0) reply(waiter.res, 200, results, this.wire, waiter.attach)
          return
        }
      }
    }
    if (!this.socket) {
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'this session has no WebSocket: the plugin cannot call or notify the host')
    }
    return sendFrame(this.socket, this.wire.frame(message))
  }

  /** Delivers a POSTed message or batch; the answers go into `res`. */
  post(value: unknown, res: ServerResponse, attach: boolean): void {
    const batch = Array.isArray(value)
    const waiter: PostWaiter = { left: 0, results: undefined, batch, res, attach }
    if (!batch) {
      this.#expect(value, waiter)
      if (waiter.left === 0) res.writeHead(204).end()
      return this.sink.message(value)
    }
    for (const item of value as unknown[]) this.#expect(item, waiter)
    if (waiter.left === 0) res.writeHead(204).end()
    for (const item of value as unknown[]) this.sink.message(item)
  }

  /** Files `waiter` under `item`'s id when `item` is a request (an id repeated in one POST counts once). */
  #expect(item: unknown, waiter: PostWaiter): void {
    const id = (item as { id?: RequestId } | null)?.id
    if (typeof (item as { method?: unknown } | null)?.method !== 'string' || id === undefined || id === null) return
    if (this.waiting.get(id) === waiter) return
    waiter.left++
    this.waiting.set(id, waiter)
  }
}

const plainWire = new MessageWire()

/** Answers with `body` as the session's wire encodes it: JSON, or JSON with attachments (its parts written as they are). */
function reply(res: ServerResponse, status: number, body: unknown, wire: MessageWire = plainWire, attach = false): void {
  if (res.headersSent || res.destroyed) return
  const form: WireForm = wire.encode(body, attach)
  res.writeHead(status, { 'content-type': form.binary ? ATTACHMENTS_MEDIA_TYPE : 'application/json', 'content-length': wireLength(form) })
  if (!form.binary) return void res.end(form.data)
  for (const part of form.data) res.write(part)
  res.end()
}

/**
 * The bearer-token check of every request, compared in constant time. The expected header's bytes
 * are made once, and the header received is written into one buffer of the same length kept for
 * the check (it runs synchronously): no Buffer or string made per request.
 */
function tokenCheck(token: string): (header: string | undefined) => boolean {
  const want = Buffer.from(`Bearer ${token}`)
  const got = Buffer.alloc(want.length)
  return (header) => {
    if (!header?.startsWith('Bearer ') || Buffer.byteLength(header) !== want.length) return false
    got.write(header)
    return timingSafeEqual(got, want)
  }
}

/** Starts the plugin's HTTP server; resolves once it listens. */
export async function serveHttp(options: HttpServeOptions): Promise<HttpPluginServer> {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_FRAME_BYTES
  const sessions = new Map<string, Session>()
  const tokenMatches = tokenCheck(options.token)
  let stateless: Session | undefined
  const refuse = (req: IncomingMessage, status: number) =>
    options.onRefused?.({ method: req.method ?? '', url: req.url ?? '', status, remote: req.socket.remoteAddress })

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (!tokenMatches(req.headers.authorization)) {
      refuse(req, 401)
      reply(res, 401, { error: 'missing or wrong token' })
      req.resume()
      return
    }
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const path = query < 0 ? url : url.slice(0, query)
    if (req.method === 'GET' && path === '/health') return reply(res, 200, { status: 'ok', id: options.id, sessions: sessions.size })
    if (req.method === 'GET' && path === '/manifest') return reply(res, 200, options.manifest ?? null)
    if (req.method !== 'POST' || path !== '/rpc') return reply(res, 404, { error: 'not found' })
    readBody(
      req,
      maxBody,
      (body) => {
        let value: unknown
        try {
          value = decodeWire(body)
        } catch (cause) {
          const error = new PolyplugError(ErrorCodes.PARSE_ERROR, `body cannot be read: ${(cause as Error).message}`)
          return reply(res, 200, malformedAnswer(error))
        }
        const sid = req.headers[SESSION_HEADER]
        let session: Session | undefined
        if (typeof sid === 'string') {
          session = sessions.get(sid)
          if (!session) return reply(res, 404, { error: `no session ${sid}` })
        } else {
          session = stateless ??= newStateless()
        }
        session.post(value, res, acceptsAttachments(req.headers.accept))
      },
      () => {
        refuse(req, 413)
        reply(res, 413, { error: `body larger than ${maxBody} bytes` })
        req.destroy()
      },
    )
  }

  const newStateless = () => {
    const session = new Session(undefined)
    options.onSession(session.channel)
    return session
  }

  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler)
  server.keepAliveTimeout = 60_000
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: maxBody })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (!tokenMatches(req.headers.authorization) || url.pathname !== '/ws') {
      const status = url.pathname === '/ws' ? 401 : 404
      if (status === 401) refuse(req, 401)
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = url.searchParams.get('session') ?? `s${Math.random().toString(36).slice(2)}`
      const session = new Session(ws)
      sessions.set(sid, session)
      session.channel.onClose(() => sessions.delete(sid))
      options.onSession(session.channel)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    dropSockets() {
      for (const client of wss.clients) client.terminate()
    },
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.channel.close()))
      await stateless?.channel.close()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Reads a request's body; `tooLarge` (once, instead of `done`) past `max` bytes or on a read error. No promise: one per POST is a microtask hop. */
function readBody(req: IncomingMessage, max: number, done: (body: Buffer) => void, tooLarge: () => void): void {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > max) return tooLarge()
  let first: Buffer | undefined
  let chunks: Buffer[] | undefined
  let size = 0
  let failed = false
  const fail = () => {
    if (failed) return
    failed = true
    tooLarge()
  }
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > max) {
      req.removeAllListeners('data')
      return fail()
    }
    if (!first) first = chunk
    else (chunks ??= [first]).push(chunk)
  })
  req.on('end', () => {
    if (!failed) done(chunks ? Buffer.concat(chunks) : first ?? Buffer.alloc(0))
  })
  req.on('error', fail)
}
