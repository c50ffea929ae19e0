/**
 * Each end of the http POST and ws echo rows alone, for bench/profile.ts: the side measured against
 * the floor's same side, the other end one plain answerer or caller shared by both, so that the
 * difference of two cases (instructions, CPU or bytes per call) is the measured side's alone.
 *
 *   http-client / http-client-json   polyplug's host side (a Peer over `connectHttp`, calls by
 *                                    POST, the codec a host uses after `$/hello`) or the floor's
 *                                    caller, against one plain server that answers every POST
 *                                    `{"jsonrpc":"2.0","id":N,"result":1}` (it parses the id)
 *   http-server / http-server-json   polyplug's plugin side (`serveHttpPlugin`, a WebSocket
 *                                    session, `$/hello` agreed) or the floor's server, POSTed to by
 *                                    one plain client that sends polyplug's headers and reads the
 *                                    answer without parsing it
 *   ws-client / ws-client-json, ws-server / ws-server-json   the same over the WebSocket session
 *   …-bare (http-client-bare, http-server-bare, ws-client-bare, ws-server-bare)   polyplug's channel
 *                                    without a Peer: the host's channel sent the request object and
 *                                    settled by id from a Map, as the floor's caller does; the
 *                                    plugin's session channel answered `{jsonrpc, id, result}` by a
 *                                    listener, as the floor's server does. Against the -json twin
 *                                    it is the transport's own cost; against the plain case, the Peer's.
 */
import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { WebSocket, WebSocketServer } from 'ws'
import { BINARY_CAPABILITY, binaryJsonCodec } from '../src/rpc/attachments.js'
import { stringify } from '../src/rpc/codec.js'
import { Peer } from '../src/rpc/peer.js'
import { definePlugin } from '../src/sdk/define.js'
import { PROTOCOL_VERSION } from '../src/sdk/protocol.js'
import { serveHttpPlugin } from '../src/sdk/serve-http.js'
import { connectHttp, postRpc } from '../src/transports/http.js'
import { serveHttp } from '../src/transports/http-server.js'
import type { Channel } from '../src/channels/channel.js'
import { ACCEPT_BOTH } from '../src/transports/message-wire.js'
import { SESSION_HEADER } from '../src/transports/ws.js'
import { callerById, jsonHttpAnswer, jsonHttpCaller, jsonWsAnswer, jsonWsCaller, listenHttp, type EchoAnswer } from './cases/net.js'

type Side = { op: () => Promise<unknown>; close(): Promise<void> }

const TOKEN = 'bench-token-0123456789abcdef'
export const NET_SIDES = ['http', 'ws'].flatMap((t) => ['client', 'server'].flatMap((s) => ['', '-json', '-bare'].map((v) => `${t}-${s}${v}`)))

type Variant = 'polyplug' | 'floor' | 'bare'

export function netSide(name: string, arg: unknown): Promise<Side> {
  const [transport, side, v] = name.split('-') as ['http' | 'ws', 'client' | 'server', string | undefined]
  const variant: Variant = v === 'json' ? 'floor' : v === 'bare' ? 'bare' : 'polyplug'
  return side === 'client' ? clientSide(transport, variant, arg) : serverSide(transport, variant)
}

/** A channel called without a Peer: the request object sent, its answer settled by id from a Map (the floor's caller, over polyplug's channel). */
function bareCaller(channel: Channel): (value: unknown) => Promise<unknown> {
  return callerById(
    (answered) => channel.onMessage((message) => answered(message as EchoAnswer)),
    (request) => void channel.send(request),
  )
}

/** A session channel answered without a Peer: each request's answer sent at once (the floor's server, over polyplug's channel); `$/hello` agrees on attachments. */
function bareAnswerer(channel: Channel): void {
  channel.onMessage((message) => {
    const request = message as { id: number; method: string; params: unknown[] }
    if (request.method === '$/hello') {
      channel.useCodec?.(binaryJsonCodec)
      return void channel.send({ jsonrpc: '2.0', id: request.id, result: { protocol: PROTOCOL_VERSION, capabilities: [BINARY_CAPABILITY] } })
    }
    void channel.send({ jsonrpc: '2.0', id: request.id, result: request.params[0] })
  })
}

/** The answer to a request, by its id: what the plain answerer sends (the floor's server answers the same text). */
const answerTo = (text: string) => `{"jsonrpc":"2.0","id":${(JSON.parse(text) as { id: number }).id},"result":1}`

async function clientSide(transport: 'http' | 'ws', variant: Variant, arg: unknown): Promise<Side> {
  const server = await listenHttp((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = answerTo(Buffer.concat(chunks).toString('utf8'))
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer)
    })
  })
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(answerTo((data as Buffer).toString('utf8'))))),
  )
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const stop = async () => {
    for (const ws of wss.clients) ws.terminate()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
  if (variant === 'floor') {
    if (transport === 'http') {
      const agent = new Agent({ keepAlive: true })
      const call = jsonHttpCaller((server.address() as AddressInfo).port, agent)
      return { op: () => call(arg), close: async () => (agent.destroy(), await stop()) }
    }
    const ws = await openWs(`${url.replace('http', 'ws')}/ws`)
    const call = jsonWsCaller(ws)
    return { op: () => call(arg), close: async () => (ws.terminate(), await stop()) }
  }
  const channel = await connectHttp({ url, token: TOKEN, calls: transport === 'http' ? 'post' : 'ws' })
  if (variant === 'bare') {
    channel.useCodec?.(binaryJsonCodec)
    const call = bareCaller(channel)
    return { op: () => call(arg), close: async () => (await channel.close(), await stop()) }
  }
  const peer = new Peer(channel, { name: 'bench' })
  peer.setCodec(binaryJsonCodec) // what a host's Peer uses once `$/hello` agreed (bench/attach.ts)
  return { op: () => peer.call('echo', [arg]), close: async () => (await peer.close(), await stop()) }
}

async function serverSide(transport: 'http' | 'ws', variant: Variant): Promise<Side> {
  const floor = variant === 'floor'
  const session = randomUUID()
  let url: string
  let stop: () => Promise<void>
  if (floor) {
    const server = await listenHttp(jsonHttpAnswer)
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, jsonWsAnswer))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    stop = async () => {
      for (const ws of wss.clients) ws.terminate()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  } else {
    const server =
      variant === 'bare'
        ? await serveHttp({ token: TOKEN, onSession: bareAnswerer })
        : await serveHttpPlugin(definePlugin({ methods: { echo: (v: unknown) => v } }), { id: 'bench', token: TOKEN })
    url = server.url
    stop = () => server.close()
  }
  const ws = await openWs(`${url.replace('http', 'ws')}/ws?session=${session}`)
  const hello = { protocol: [PROTOCOL_VERSION], plugin: 'bench', host: { name: 'polyplug', version: '0', pid: process.pid }, encodings: ['json'], capabilities: [BINARY_CAPABILITY] }
  if (!floor) await postRpc(url, stringify({ jsonrpc: '2.0', id: 0, method: '$/hello', params: hello }), { token: TOKEN, session })
  let id = 0
  if (transport === 'ws') {
    const waiting: (() => void)[] = []
    ws.on('message', () => waiting.shift()?.())
    const op = () => new Promise<void>((resolve) => (waiting.push(resolve), ws.send(`{"jsonrpc":"2.0","id":${++id},"method":"echo","params":[1]}`)))
    return { op, close: async () => (ws.terminate(), await stop()) }
  }
  // polyplug's own POST headers (src/transports/http.ts `postHeaders`), sent to both servers alike.
  const agent = new Agent({ keepAlive: true })
  const { hostname, port } = new URL(url)
  const headers: OutgoingHttpHeaders = { authorization: `Bearer ${TOKEN}`, accept: ACCEPT_BOTH, [SESSION_HEADER]: session, 'content-type': 'application/json' }
  const op = () =>
    new Promise<void>((resolve, reject) => {
      const body = `{"jsonrpc":"2.0","id":${++id},"method":"echo","params":[1]}`
      const req = request({ hostname, port, path: '/rpc', method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
        res.on('data', () => {})
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end(body)
    })
  return { op, close: async () => (agent.destroy(), ws.terminate(), await stop()) }
}

function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers: { authorization: `Bearer ${TOKEN}` } })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}
