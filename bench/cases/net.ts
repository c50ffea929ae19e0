/**
 * Networked transports, both ends in this process so only the transport differs: polyplug calls
 * over http (POST), over the WebSocket session, and over MQTT (embedded aedes; Mosquitto when
 * the `mosquitto` binary exists), each against a hand-written raw echo over the same channel: a
 * plain keep-alive `http` echo server, a plain `ws` echo (compression off), a plain `mqtt`
 * request/response pair. Small-call round trip and a 1 MiB binary echo: the polyplug side agrees
 * on bytes as attachments in `$/hello` as a host does (a binary frame, an octet-stream body, a
 * binary MQTT payload), and the raw echo carries the same bytes, the MiB itself after a small head.
 * The `JSON-only` rows are a peer that offers nothing, so the MiB goes as base64 `$bytes`.
 * The small http and ws echo rows carry the hand-written JSON-RPC floor over the same channel as
 * their peer (`jsonHttp`, `jsonWs`): what any JSON-RPC over it must do, measured in the same rounds.
 */
import { createServer, request, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { execFileSync } from 'node:child_process'
import { connectAsync, type MqttClient } from 'mqtt'
import { WebSocket, WebSocketServer } from 'ws'
import { stringify } from '../../src/rpc/codec.js'
import { Peer } from '../../src/rpc/peer.js'
import { definePlugin } from '../../src/sdk/define.js'
import { serveHttpPlugin } from '../../src/sdk/serve-http.js'
import { startEmbeddedBroker } from '../../src/transports/mqtt-broker.js'
import { connectHttp } from '../../src/transports/http.js'
import { connectMqtt } from '../../src/transports/mqtt.js'
import { freePort, policyUsers, startMosquitto, writeMosquittoConfig } from '../../test/support/mosquitto.js'
import { servePlugin } from '../../src/sdk/serve.js'
import { BIG_PAYLOAD, compare, row, type BenchRow } from '../measure.js'
import { agreedPeer, attachedFrame } from '../attach.js'

const MiB = 1 << 20
const TOKEN = 'bench-token-0123456789abcdef'
/** The peer name of the hand-written JSON-RPC floor beside a row (as the unix throughput row has it). */
export const FLOOR = 'hand-written JSON-RPC floor'
const echoPlugin = definePlugin({ methods: { echo: (v: unknown) => v } })
const small = stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
const big = new Uint8Array(MiB).map((_, i) => i & 255)
const bigFrame = attachedFrame(big)

/** Ends an echo's keep-alive agent and server. */
async function closeHttp(server: Server, agent: Agent): Promise<void> {
  agent.destroy()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
}

export async function rawHttp(): Promise<{ call(body: string | Buffer): Promise<Buffer>; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body)
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  const agent = new Agent({ keepAlive: true })
  return {
    call: (body) =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve(Buffer.concat(chunks)))
        })
        req.on('error', reject)
        req.end(body)
      }),
    close: () => closeHttp(server, agent),
  }
}

export async function rawWs(): Promise<{ call(data: string | Buffer): Promise<unknown>; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * MiB })
  await new Promise((r) => wss.once('listening', r))
  wss.on('connection', (s) => s.on('message', (data, binary) => s.send(data, { binary })))
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false, maxPayload: 64 * MiB })
  await new Promise((r) => ws.once('open', r))
  const waiters: ((m: unknown) => void)[] = []
  ws.on('message', (m) => waiters.shift()?.(m))
  return {
    call: (data) => new Promise((resolve) => (waiters.push(resolve), ws.send(data, { binary: typeof data !== 'string' }))),
    async close() {
      ws.terminate()
      await new Promise((r) => wss.close(r))
    },
  }
}

/**
 * The floor of any JSON-RPC over http, on the raw echo's channel and client (node's http, one
 * keep-alive agent, the same headers): the client `JSON.stringify`s a request with an id into the
 * POST body, the server `JSON.parse`s it and answers `JSON.stringify({jsonrpc, id, result})`, the
 * client parses the answer and routes it by id through a Map. No token, session, checks, errors,
 * contexts or statistics: what polyplug's http row costs above this is polyplug's own.
 */
export async function jsonHttp(): Promise<{ call(value: unknown): Promise<unknown>; close(): Promise<void> }> {
  const server = await listenHttp(jsonHttpAnswer)
  const agent = new Agent({ keepAlive: true })
  return { call: jsonHttpCaller((server.address() as AddressInfo).port, agent), close: () => closeHttp(server, agent) }
}

/** A keep-alive http server on loopback (port 0) serving `handler`; resolves once it listens. */
export async function listenHttp(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server: Server = createServer(handler)
  server.keepAliveTimeout = 60_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return server
}

/** The floor's served side: `JSON.parse` the body, answer `JSON.stringify({jsonrpc, id, result})`. */
export function jsonHttpAnswer(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; params: unknown[] }
    const answer = JSON.stringify({ jsonrpc: '2.0', id: request.id, result: request.params[0] })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer)
  })
}

/** The floor's calling side: a request with a fresh id POSTed to `port`, its answer parsed and settled by id from a Map. */
export function jsonHttpCaller(port: number, agent: Agent): (value: unknown) => Promise<unknown> {
  const waiting = new Map<number, (value: unknown) => void>()
  let id = 0
  return (value) =>
    new Promise((resolve, reject) => {
      waiting.set(++id, resolve)
      const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params: [value] })
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; result: unknown }
          const settle = waiting.get(answer.id)
          waiting.delete(answer.id)
          settle?.(answer.result)
        })
      })
      req.on('error', reject)
      req.end(body)
    })
}

/**
 * The floor of any JSON-RPC over one WebSocket, with the raw echo's `ws` settings (compression
 * off): the client `JSON.stringify`s each request with an id and keeps its resolver in a Map of
 * pending ids; the server `JSON.parse`s each frame and answers `JSON.stringify({jsonrpc, id,
 * result})`; the client parses the answer and routes it by id. Nothing else.
 */
export async function jsonWs(): Promise<{ call(value: unknown): Promise<unknown>; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * MiB })
  await new Promise((r) => wss.once('listening', r))
  wss.on('connection', jsonWsAnswer)
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false, maxPayload: 64 * MiB })
  await new Promise((r) => ws.once('open', r))
  return {
    call: jsonWsCaller(ws),
    async close() {
      ws.terminate()
      await new Promise((r) => wss.close(r))
    },
  }
}

/** The floor's served side over a WebSocket: `JSON.parse` each frame, answer `JSON.stringify({jsonrpc, id, result})`. */
export function jsonWsAnswer(socket: WebSocket): void {
  socket.on('message', (data) => {
    const request = JSON.parse((data as Buffer).toString('utf8')) as { id: number; params: unknown[] }
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: request.params[0] }))
  })
}

/** An answer as the floors read it. */
export interface EchoAnswer {
  id: number
  result: unknown
}

/**
 * A floor's calling side: an `echo` request with a fresh id per call, sent by `send`; `listen` hands
 * each answer to the function it is given, which settles the call of that id from a Map.
 */
export function callerById(listen: (answered: (answer: EchoAnswer) => void) => void, send: (request: object) => void): (value: unknown) => Promise<unknown> {
  const waiting = new Map<number, (value: unknown) => void>()
  listen((answer) => {
    const settle = waiting.get(answer.id)
    waiting.delete(answer.id)
    settle?.(answer.result)
  })
  let id = 0
  return (value) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve)
      send({ jsonrpc: '2.0', id, method: 'echo', params: [value] })
    })
}

/** The floor's calling side over an open WebSocket: each request one JSON text frame, each answer parsed. */
export function jsonWsCaller(ws: WebSocket): (value: unknown) => Promise<unknown> {
  return callerById(
    (answered) => ws.on('message', (data) => answered(JSON.parse((data as Buffer).toString('utf8')) as EchoAnswer)),
    (request) => ws.send(JSON.stringify(request)),
  )
}

export async function rawMqtt(url: string, auth: { username: string; password: string }): Promise<{ call(payload: string | Buffer): Promise<unknown>; close(): Promise<void> }> {
  const requester: MqttClient = await connectAsync(url, { ...auth, reconnectPeriod: 0 })
  const responder: MqttClient = await connectAsync(url, { ...auth, reconnectPeriod: 0 })
  // The same TCP_NODELAY polyplug's mqtt transport sets: without it each round trip waits ~40 ms.
  for (const c of [requester, responder]) (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
  await responder.subscribeAsync('polyplug/raw/req', { qos: 1 })
  await requester.subscribeAsync('polyplug/raw/res', { qos: 1 })
  responder.on('message', (_t, payload) => responder.publish('polyplug/raw/res', payload, { qos: 1 }))
  const waiters: ((m: unknown) => void)[] = []
  requester.on('message', (_t, payload) => waiters.shift()?.(payload))
  return {
    call: (payload) => new Promise((resolve) => (waiters.push(resolve), requester.publish('polyplug/raw/req', payload, { qos: 1 }))),
    async close() {
      await requester.endAsync(true)
      await responder.endAsync(true)
    },
  }
}

async function mqttRows(label: string, url: string, host: { username: string; password: string }): Promise<BenchRow[]> {
  const [hostSide, pluginSide] = await Promise.all([
    connectMqtt({ url, pluginId: 'bench', side: 'host', ...host }),
    connectMqtt({ url, pluginId: 'bench', side: 'plugin', ...host }),
  ])
  servePlugin(pluginSide, echoPlugin, { id: 'bench' })
  const peer = await agreedPeer(hostSide, 'bench')
  const raw = await rawMqtt(url, host)
  try {
    const [p, b] = await compare([() => peer.call('echo', [1]), () => raw.call(small)], { batch: 200, rounds: 9, warmup: 300 })
    const [pb, bb] = await compare([() => peer.call('echo', [big]), () => raw.call(bigFrame)], BIG_PAYLOAD)
    return [
      row({ name: `mqtt ${label} echo`, kind: 'js', placement: 'process', transport: 'mqtt', polyplug: p!, baseline: b! }),
      row({ name: `mqtt ${label} 1 MiB echo`, kind: 'js', placement: 'process', transport: 'mqtt', metric: '1MiB-echo', polyplug: pb!, baseline: bb! }),
    ]
  } finally {
    await raw.close()
    await hostSide.close()
    await pluginSide.close()
  }
}

export function hasMosquitto(): boolean {
  try {
    execFileSync('mosquitto', ['-h'], { stdio: 'ignore' })
    return true
  } catch (error) {
    return (error as { status?: number }).status !== undefined // `-h` exits non-zero but the binary ran
  }
}

/** Mosquitto in a process of its own when installed, else the embedded aedes broker. */
export async function mqttBroker(): Promise<{ name: string; url: string; user: { username: string; password: string }; close(): Promise<void> }> {
  if (hasMosquitto()) {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-'))
    const port = await freePort()
    const user = { username: 'bench-host', password: 'bench' }
    const files = await writeMosquittoConfig(dir, { port, users: policyUsers(user, []) })
    const mosquitto = await startMosquitto(files.config, port)
    return { name: 'mosquitto', url: mosquitto.url, user, close: () => mosquitto.stop() }
  }
  const broker = await startEmbeddedBroker()
  const user = { username: 'bench-host', password: broker.addUser('bench-host', 'polyplug/') }
  return { name: 'aedes', url: broker.url, user, close: () => broker.close() }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const server = await serveHttpPlugin(echoPlugin, { id: 'bench', token: TOKEN })
  const overPost = await agreedPeer(await connectHttp({ url: server.url, token: TOKEN, calls: 'post' }), 'bench')
  const overWs = await agreedPeer(await connectHttp({ url: server.url, token: TOKEN, calls: 'ws' }), 'bench')
  const postJsonOnly = new Peer(await connectHttp({ url: server.url, token: TOKEN, calls: 'post' }))
  const wsJsonOnly = new Peer(await connectHttp({ url: server.url, token: TOKEN, calls: 'ws' }))
  const http = await rawHttp()
  const ws = await rawWs()
  const httpFloor = await jsonHttp()
  const wsFloor = await jsonWs()
  try {
    const [p, pw, b, bw, fh, fw] = await compare([
      () => overPost.call('echo', [1]),
      () => overWs.call('echo', [1]),
      () => http.call(small),
      () => ws.call(small),
      () => httpFloor.call(1),
      () => wsFloor.call(1),
    ])
    rows.push(row({ name: 'http POST echo', kind: 'js', placement: 'process', transport: 'http', polyplug: p!, baseline: b!, peer: FLOOR, peer_value: fh! }))
    rows.push(row({ name: 'ws echo', kind: 'js', placement: 'process', transport: 'ws', polyplug: pw!, baseline: bw!, peer: FLOOR, peer_value: fw! }))
    rows.push(row({ name: 'http POST vs raw ws', kind: 'js', placement: 'process', transport: 'http', polyplug: p!, baseline: bw! }))
    const opts = BIG_PAYLOAD
    const [pb, pwb, pjb, wjb, bb, bwb] = await compare(
      [() => overPost.call('echo', [big]), () => overWs.call('echo', [big]), () => postJsonOnly.call('echo', [big]), () => wsJsonOnly.call('echo', [big]), () => http.call(bigFrame), () => ws.call(bigFrame)],
      opts,
    )
    rows.push(row({ name: 'http POST 1 MiB echo', kind: 'js', placement: 'process', transport: 'http', metric: '1MiB-echo', polyplug: pb!, baseline: bb! }))
    rows.push(row({ name: 'ws 1 MiB echo', kind: 'js', placement: 'process', transport: 'ws', metric: '1MiB-echo', polyplug: pwb!, baseline: bwb! }))
    rows.push(row({ name: 'http POST 1 MiB echo, JSON-only peer (base64)', kind: 'js', placement: 'process', transport: 'http', metric: '1MiB-echo', polyplug: pjb!, baseline: bb! }))
    rows.push(row({ name: 'ws 1 MiB echo, JSON-only peer (base64)', kind: 'js', placement: 'process', transport: 'ws', metric: '1MiB-echo', polyplug: wjb!, baseline: bwb! }))
  } finally {
    await overPost.close()
    await overWs.close()
    await postJsonOnly.close()
    await wsJsonOnly.close()
    await http.close()
    await ws.close()
    await httpFloor.close()
    await wsFloor.close()
    await server.close()
  }
  const broker = await startEmbeddedBroker()
  const host = { username: 'bench-host', password: broker.addUser('bench-host', 'polyplug/') }
  try {
    rows.push(...(await mqttRows('aedes', broker.url, host)))
  } finally {
    await broker.close()
  }
  if (hasMosquitto()) {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-'))
    const port = await freePort()
    const files = await writeMosquittoConfig(dir, { port, users: policyUsers({ username: 'bench-host', password: 'bench' }, []) })
    const mosquitto = await startMosquitto(files.config, port)
    try {
      rows.push(...(await mqttRows('mosquitto', mosquitto.url, { username: 'bench-host', password: 'bench' })))
    } finally {
      await mosquitto.stop()
    }
  }
  return rows
}
