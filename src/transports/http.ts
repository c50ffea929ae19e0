/**
 * The host side of the `http` transport (server side: http-server.ts). One Channel combines a
 * WebSocket session (notifications, plugin->host calls, progress, cancellation) with keep-alive
 * POSTs to /rpc for host->plugin calls when `calls` is 'post'.
 *
 * Which way calls go when both exist: `calls: 'ws'` (default) sends requests over the socket too,
 * because a frame costs less than an HTTP exchange (bench/cases/net.ts measures both); `'post'`
 * gives plain request/response semantics (proxies, load balancers, logs) at some cost per call.
 * `websocket: false` is the POST-only mode for plugins that cannot speak WebSocket: calls work,
 * but the plugin cannot call the host, and cancellation is local only.
 * Messages are JSON until `$/hello` agrees on bytes as attachments; then a message holding bytes
 * is a binary frame or an `application/octet-stream` body (transports/message-wire.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel, ChannelSink, ExplainFailure } from '../channels/channel.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { errorToWire, type RequestId } from '../rpc/wire.js'
import { ErrorCodes } from '../errors/index.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../framing/framing.js'
import type { DialRequest } from '../registry/types.js'
import { attachSocket, closeSocket, openSocket, sendFrame, SESSION_HEADER } from './ws.js'
import { ACCEPT_BOTH, ATTACHMENTS_MEDIA_TYPE, decodeFrame, decodeWire, malformedAnswer, MessageWire, wireLength, type WireForm } from './message-wire.js'

export interface HttpConnectOptions {
  /** The plugin's base URL, http://host:port or https://. */
  url: string
  token: string
  /** How host->plugin requests travel. Default 'ws'. */
  calls?: 'ws' | 'post'
  /** Open the WebSocket session. Default true; false means POST-only. */
  websocket?: boolean
  maxBodyBytes?: number
  /** Trusted CA (PEM) for https:// and wss://, e.g. a self-signed certificate. */
  ca?: string | Buffer
  /** Deadline for opening the WebSocket session, in ms (default 30 000). */
  connectTimeoutMs?: number
}

/** Connects to a plugin's HTTP server; resolves once the WebSocket session is open. */
export async function connectHttp(options: HttpConnectOptions): Promise<Channel> {
  const base = options.url.replace(/\/+$/, '')
  const secure = base.startsWith('https:')
  const useWs = options.websocket ?? true
  const calls = useWs ? (options.calls ?? 'ws') : 'post'
  const session = randomUUID()
  const socket = useWs
    ? await openSocket(`${base.replace(/^http/, 'ws')}/ws?session=${session}`, {
        token: options.token,
        maxFrameBytes: options.maxBodyBytes ?? DEFAULT_MAX_FRAME_BYTES,
        ...(options.connectTimeoutMs ? { handshakeTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.ca ? { ca: options.ca } : {}),
      })
    : undefined
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) })
    : new HttpAgent({ keepAlive: true })
  const target = rpcTarget(base)
  // This end reads both forms from the start: a session that agreed on attachments may answer with them.
  const headers = postHeaders(target, agent, options.token, socket ? session : undefined, true)
  let sink!: ChannelSink
  const wire = new MessageWire()
  const deliverValue = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) sink.message(item)
    else sink.message(value)
  }
  const deliverBody = (body: Buffer) => {
    if (body.byteLength) deliverValue(decodeWire(body))
  }
  // A request's POST answered: its body read (a malformed one fails the call with PARSE_ERROR) and delivered outside the try.
  const readAnswer = (body: Buffer, id: RequestId) => {
    if (body.byteLength === 0) return
    let value: unknown
    try {
      value = decodeWire(body)
    } catch (error) {
      return failCall(error, id)
    }
    deliverValue(value)
  }
  let explain: ExplainFailure | undefined
  /**
   * A request sent by POST that failed (HTTP error, an unreadable answer, a dropped connection) is
   * answered here with its error, explained first by the channel's owner if it asked to: the call
   * fails with a typed error, and neither this channel nor the Peer makes a promise per call.
   */
  const failCall = (cause: unknown, id: RequestId) => {
    const error = toPolyplugError(cause)
    const why = explain === undefined ? error : explain(error)
    if (why instanceof Promise) void why.then((e) => answerError(id, e))
    else answerError(id, why)
  }
  // A channel closed meanwhile drops it (normalizeChannel): its close has failed the call already.
  const answerError = (id: RequestId, error: PolyplugError) => sink.message({ jsonrpc: '2.0', id, error: errorToWire(error) })
  // A frame the plugin sent that cannot be read is answered with PARSE_ERROR, as a Peer would.
  const onFrame = (data: Buffer, binary: boolean) => {
    let value: unknown
    try {
      value = decodeFrame(data, binary)
    } catch (error) {
      if (socket) sendFrame(socket, wire.frame(malformedAnswer(error)))?.catch(() => {})
      return
    }
    deliverValue(value)
  }

  return normalizeChannel({
    carries: 'structured-clone', // encoded here: requests are routed by shape
    binary: true,
    useCodec: (codec) => wire.use(codec),
    explainFailures(e) {
      explain = e
    },
    open(s) {
      sink = s
      if (socket) {
        attachSocket(socket, sink, onFrame)
        // The session is over: POSTs still in flight would only wait on a connection nobody answers.
        socket.once('close', () => agent.destroy())
      }
    },
    send(message) {
      const m = message as { id?: unknown; method?: unknown }
      const isRequest = typeof m.method === 'string' && m.id !== undefined
      if (calls === 'post' && (isRequest || !socket)) {
        const body = wire.encode(message)
        // A request is taken at once: its answer, or its failure as an error answer, comes as a message.
        if (isRequest) return void postWith(target, secure, headers, body, m.id as RequestId, readAnswer, failCall)
        // Anything else by POST (a POST-only channel's notification or answer) fails its send; an unreadable answer fails with PARSE_ERROR.
        return post(target, secure, headers, body, deliverBody)
      }
      if (!socket) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'no WebSocket session')
      return sendFrame(socket as WebSocket, wire.frame(message))
    },
    async close() {
      if (socket) await closeSocket(socket)
      agent.destroy()
    },
  })
}

/** One POST of JSON text to /rpc; resolves with the response body ('' for 204). Errors carry stable codes. */
export function postRpc(
  base: string,
  body: string,
  options: { token: string; agent?: HttpAgent; session?: string; ca?: string | Buffer },
): Promise<string> {
  const secure = base.startsWith('https:')
  const agent = options.agent ?? (secure ? new HttpsAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) }) : new HttpAgent({ keepAlive: true }))
  const target = rpcTarget(base)
  return post(target, secure, postHeaders(target, agent, options.token, options.session, false), { binary: false, data: body }, (answer) => answer.toString('utf8'))
}

/**
 * The headers of every POST on one channel, made once as node's flat `[name, value, ...]` form,
 * which `http.request` writes as they are (an object costs a `setHeader` and its checks per header
 * and request). That form skips node's own `Host`, so it is here; `content-length` is set per request.
 */
interface PostHeaders {
  /** Each ends with `content-length` and its value, set per POST (node reads the array within `http.request`, then not again). */
  readonly json: string[]
  readonly attachments: string[]
  /** The session a POST names (x-polyplug-session), if any. */
  readonly session: string | undefined
  /**
   * `http.request`'s options for a POST of each form, made once: node copies them into an object
   * of its own (ClientRequest's constructor) and keeps no reference to them, so no object is made per POST.
   */
  readonly jsonRequest: RequestOptions
  readonly attachmentsRequest: RequestOptions
}

function postHeaders(target: RpcTarget, agent: HttpAgent, token: string, session: string | undefined, accept: boolean): PostHeaders {
  const common = ['host', target.host, 'authorization', `Bearer ${token}`]
  if (accept) common.push('accept', ACCEPT_BOTH)
  if (session !== undefined) common.push(SESSION_HEADER, session)
  const json = [...common, 'content-type', 'application/json', 'content-length', '0']
  const attachments = [...common, 'content-type', ATTACHMENTS_MEDIA_TYPE, 'content-length', '0']
  const requestOf = (headers: string[]): RequestOptions => ({ protocol: target.protocol, hostname: target.hostname, port: target.port, path: target.path, method: 'POST', agent, headers })
  return { json, attachments, session, jsonRequest: requestOf(json), attachmentsRequest: requestOf(attachments) }
}

/** Where POSTs go, parsed once: a URL string per request would be parsed again on every call. */
interface RpcTarget {
  readonly url: string
  readonly protocol: string
  readonly hostname: string
  readonly port: string
  readonly path: string
  /** The `Host` header: host and port as the URL spells them (an IPv6 host in brackets, a default port left out). */
  readonly host: string
}

function rpcTarget(base: string): RpcTarget {
  const url = new URL(`${base}/rpc`)
  // URL keeps an IPv6 host in brackets; http.request wants it bare.
  return { url: url.href, protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, path: `${url.pathname}${url.search}`, host: url.host }
}

/**
 * POSTs one message (its parts written as they are, no copy); resolves with what `read` makes of
 * the response body, read as it ends (no promise hop of its own), or rejects with what `read` throws.
 */
function post<T>(target: RpcTarget, secure: boolean, headers: PostHeaders, body: WireForm, read: (body: Buffer) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    postWith(
      target,
      secure,
      headers,
      body,
      undefined,
      (answer) => {
        try {
          resolve(read(answer))
        } catch (error) {
          reject(error)
        }
      },
      reject,
    )
  })
}

/**
 * POSTs one message and reports to callbacks, each at most once and never both: `answered` with
 * the body of a 200 or 204, `failed` with a typed error (the HTTP status, a dropped connection).
 * Both are told `call` (a request's id), so a channel's two callbacks serve all its POSTs: no
 * closures made per call for them.
 */
function postWith<C>(
  target: RpcTarget,
  secure: boolean,
  headers: PostHeaders,
  body: WireForm,
  call: C,
  answered: (body: Buffer, call: C) => void,
  failed: (error: PolyplugError, call: C) => void,
): void {
  let over = false
  const fail = (error: PolyplugError) => {
    if (over) return
    over = true
    failed(error, call)
  }
  const request = secure ? httpsRequest : httpRequest
  // The channel's own array, its length set for this POST: node writes a flat array's header block
  // inside `http.request` (ClientRequest's constructor) and keeps no reference to it, so no copy is made per POST.
  const sent = body.binary ? headers.attachments : headers.json
  sent[sent.length - 1] = String(wireLength(body))
  const req = request(
    body.binary ? headers.attachmentsRequest : headers.jsonRequest,
    (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (error) => fail(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, error.message, { cause: error })))
      res.on('end', () => {
        if (over) return
        const status = res.statusCode ?? 0
        if (status === 200 || status === 204) {
          over = true
          return answered(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), call)
        }
        // 404 to a POST naming a session: the plugin closed that session while this POST was on its
        // way (the socket's close frame may still be in flight), so the call met a closed channel.
        if (status === 404 && headers.session !== undefined) {
          return fail(new PolyplugError(ErrorCodes.CHANNEL_CLOSED, `POST ${target.url}: the plugin closed session ${headers.session}`, { data: { status } }))
        }
        const code =
          status === 401 ? ErrorCodes.PERMISSION_DENIED : status === 413 ? ErrorCodes.FRAME_TOO_LARGE : ErrorCodes.TRANSPORT_UNAVAILABLE
        fail(new PolyplugError(code, `POST ${target.url} answered HTTP ${status}`, { data: { status } }))
      })
    },
  )
  req.on('error', (error) => fail(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `POST ${target.url} failed: ${error.message}`, { cause: error })))
  if (!body.binary) return void req.end(body.data)
  for (const part of body.data) req.write(part)
  req.end()
}

/**
 * `remote` over http(s):// or ws(s)://: the same plugin server either way; `calls` (the manifest's
 * transport) says whether calls go by POST or over the WebSocket.
 */
export function httpDialer(calls: 'ws' | 'post'): (request: DialRequest) => Promise<Channel> {
  return async ({ id, url, token, ca }) => {
    const scheme = url.slice(0, Math.max(0, url.indexOf('://')))
    if (!token) throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `${scheme}:// needs a token`, { plugin: id })
    return connectHttp({ url: url.replace(/^ws/, 'http'), token, calls, ...(ca ? { ca } : {}) })
  }
}
