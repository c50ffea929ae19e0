/**
 * Bytes travel as bytes over the network transports too (docs/protocol.md §4.1): over ws (binary
 * frames), http (an application/octet-stream body) and mqtt (the payload), once `$/hello` agreed on
 * `"binary"`. Through the host, with the JS SDK and every kit that speaks the transport — and
 * through the `remote` placement — 0 B, a NUL-filled 64 KiB and a random 1 MiB echo byte for byte,
 * on the embedded broker and on Mosquitto. At the wire, against each plugin server: the answer is
 * the attachment layout with the payload itself (no base64); a JSON-only peer that offers nothing
 * still gets JSON text with `$bytes`; a malformed message with attachments (short head, JSON length
 * past the end, a reference past the attachment area) is answered with PARSE_ERROR and the
 * connection goes on.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { connectAsync, type MqttClient } from 'mqtt'
import { WebSocket, WebSocketServer } from 'ws'
import { createHost, type Host } from '../src/host/host.js'
import { decodeWithAttachments, encodeWithAttachments } from '../src/rpc/attachments.js'
import { definePlugin } from '../src/sdk/define.js'
import { servePlugin } from '../src/sdk/serve.js'
import { serveHttpPlugin } from '../src/sdk/serve-http.js'
import type { HttpPluginServer } from '../src/transports/http-server.js'
import { connectHttp } from '../src/transports/http.js'
import { awaitListenLine } from '../src/transports/http-sidecar.js'
import { pluginPrefix, startEmbeddedBroker, type EmbeddedBroker } from '../src/transports/mqtt-broker.js'
import { connectMqtt, inboxTopic } from '../src/transports/mqtt.js'
import { stopEmbeddedBroker } from '../src/transports/mqtt-sidecar.js'
import { describeRequiring } from './support/describe-requiring.js'
import { freePort, policyUsers, startMosquitto, writeMosquittoConfig, type RunningMosquitto } from './support/mosquitto.js'
import { examplesDir } from './support/paths.js'
import { builtWith, requires, tools } from './support/requires.js'

const TOKEN = 'binary-network-token-0123456789ab'
const MiB = 1 << 20
const shared = join(examplesDir, 'shared')
const cMqtt = join(shared, 'bin', 'c-conformance-mqtt')
const PAYLOADS: [string, () => Buffer][] = [
  ['0 B', () => Buffer.alloc(0)],
  ['64 KiB of NUL', () => Buffer.alloc(64 * 1024)],
  ['1 MiB', () => randomBytes(MiB)],
]
const echoPlugin = definePlugin({ methods: { echo: (value: unknown) => value } })

const jsEntry = (dir: string) => ({ kind: 'js', entry: relative(dir, join(shared, 'conformance.js')), permissions: { fs: [{ path: relative(dir, shared), access: 'read' }] } })
const pyEntry = (dir: string) => ({ kind: 'exec', entry: relative(dir, join(shared, 'conformance.py')), sidecar: { command: ['python3', relative(dir, join(shared, 'conformance.py'))] } })
const cEntry = (dir: string) => ({ kind: 'exec', entry: relative(dir, cMqtt), sidecar: { command: [relative(dir, cMqtt)] } })

async function writePlugin(root: string, id: string, manifest: (dir: string) => Record<string, unknown>): Promise<void> {
  const dir = join(root, id)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', ...manifest(dir) }))
}

/** Activates `id`, checks both sides agreed on attachments, and echoes every payload byte for byte. */
async function assertEchoesAsBytes(host: Host, id: string): Promise<void> {
  const plugin = host.plugin(id)
  await plugin.activate()
  const capabilities = host.list().find((p) => p.id === id)?.capabilities ?? []
  assert.ok(capabilities.includes('binary'), `${id} agreed on "binary" in $/hello (capabilities: ${capabilities.join(', ')})`)
  for (const [what, make] of PAYLOADS) {
    const payload = make()
    const echoed = await plugin.call('echo', [payload])
    assert.ok(echoed instanceof Uint8Array, `${id}: the echo of ${what} answers bytes`)
    assert.ok(Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).equals(payload), `${id}: the echo of ${what} round-trips exactly`)
  }
  assert.deepEqual(await plugin.call('echo', [{ bytes: Buffer.from([0, 1, 2]), text: 'beside' }]), { bytes: new Uint8Array([0, 1, 2]), text: 'beside' })
}

describe('bytes as attachments through the host, over ws, http and mqtt (embedded broker), and remote', () => {
  let root: string
  let host: Host
  let served: HttpPluginServer
  const ids: { id: string; skip: string | false }[] = []

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-binary-net-'))
    process.env.POLYPLUG_TOKEN = TOKEN // what the operator gave the remote plugin: it answers $/hello with it
    served = await serveHttpPlugin(echoPlugin, { id: 'remote-echo', token: TOKEN })
    const add = async (id: string, skip: string | false, manifest: (dir: string) => Record<string, unknown>) => {
      ids.push({ id, skip })
      if (!skip) await writePlugin(root, id, manifest)
    }
    const python = requires(tools.python3)
    const c = requires(...builtWith(cMqtt))
    for (const transport of ['ws', 'http']) {
      await add(`js-${transport}`, false, (dir) => ({ placement: 'process', transport, ...jsEntry(dir) }))
      await add(`python-${transport}`, python, (dir) => ({ placement: 'process', transport, ...pyEntry(dir) }))
      await add(`remote-${transport}`, false, () => ({ kind: 'exec', entry: 'elsewhere', placement: 'remote', transport, remote: { url: served.url, token: TOKEN } }))
    }
    await add('js-mqtt', false, (dir) => ({ placement: 'process', transport: 'mqtt', ...jsEntry(dir) }))
    await add('c-mqtt', c, (dir) => ({ placement: 'process', transport: 'mqtt', ...cEntry(dir) }))
    host = await createHost({ plugins: [root], logger: () => {} })
  })

  after(async () => {
    await host?.close()
    await served?.close()
    await stopEmbeddedBroker()
    await rm(root, { recursive: true, force: true })
  })

  for (const name of ['js-ws', 'python-ws', 'remote-ws', 'js-http', 'python-http', 'remote-http', 'js-mqtt', 'c-mqtt']) {
    it(`${name}: 0 B, 64 KiB of NUL and 1 MiB echo exactly, as attachments`, { timeout: 120_000 }, async (t) => {
      const entry = ids.find((e) => e.id === name)!
      if (entry.skip) return t.skip(entry.skip)
      await assertEchoesAsBytes(host, name)
    })
  }
})

describeRequiring('bytes as attachments through the host, over mqtt via Mosquitto', [tools.mosquitto], () => {
  const HOST = { username: 'polyplug-host', password: 'host-secret' }
  const plugins = [
    { id: 'mosq-js', skip: false as string | false, manifest: (dir: string) => ({ placement: 'process', transport: 'mqtt', ...jsEntry(dir) }) },
    { id: 'mosq-c', skip: requires(...builtWith(cMqtt)), manifest: (dir: string) => ({ placement: 'process', transport: 'mqtt', ...cEntry(dir) }) },
  ]
  const passwordVar = (id: string) => `POLYPLUG_MQTT_PASSWORD_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
  const env = ['POLYPLUG_MQTT_URL', 'POLYPLUG_MQTT_HOST_USERNAME', 'POLYPLUG_MQTT_HOST_PASSWORD', ...plugins.map((p) => passwordVar(p.id))]
  let root: string
  let host: Host
  let mosquitto: RunningMosquitto

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-binary-mosq-'))
    const port = await freePort()
    const files = await writeMosquittoConfig(root, { port, users: policyUsers(HOST, plugins.map((p) => ({ id: p.id, password: `${p.id}-secret` }))) })
    mosquitto = await startMosquitto(files.config, port)
    // The host reads these when a plugin starts; they are removed again after this suite.
    process.env.POLYPLUG_MQTT_URL = mosquitto.url
    process.env.POLYPLUG_MQTT_HOST_USERNAME = HOST.username
    process.env.POLYPLUG_MQTT_HOST_PASSWORD = HOST.password
    for (const p of plugins) {
      process.env[passwordVar(p.id)] = `${p.id}-secret`
      if (!p.skip) await writePlugin(join(root, 'plugins'), p.id, p.manifest)
    }
    host = await createHost({ plugins: [join(root, 'plugins')], logger: () => {} })
  })

  after(async () => {
    await host?.close()
    for (const name of env) delete process.env[name]
    await mosquitto?.stop()
    await rm(root, { recursive: true, force: true })
  })

  for (const p of plugins) {
    it(`${p.id}: 0 B, 64 KiB of NUL and 1 MiB echo exactly, as attachments`, { timeout: 120_000 }, async (t) => {
      if (p.skip) return t.skip(p.skip)
      await assertEchoesAsBytes(host, p.id)
    })
  }
})

/**
 * A plugin server written by hand that knows nothing of attachments (a kit that has not followed):
 * it answers `$/hello` without "binary" and reads every frame and body as JSON text. It records what
 * the host sent it.
 */
async function jsonOnlyServer(): Promise<{ url: string; seen: { binary: boolean; text: string }[]; close(): Promise<void> }> {
  const seen: { binary: boolean; text: string }[] = []
  const answer = (text: string): string | undefined => {
    const m = JSON.parse(text) as { id?: unknown; method: string; params?: unknown[] }
    if (m.id === undefined) return undefined
    const result = m.method === '$/hello' ? { protocol: 1, id: 'json-only', methods: ['echo'], capabilities: ['streams'], token: TOKEN } : m.method === 'echo' ? m.params?.[0] : {}
    return JSON.stringify({ jsonrpc: '2.0', id: m.id, result })
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      seen.push({ binary: req.headers['content-type'] !== 'application/json', text })
      const reply = answer(text)
      if (reply === undefined) return void res.writeHead(204).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end(reply)
    })
  })
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, maxPayload: 64 * MiB })
  wss.on('connection', (socket) =>
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      seen.push({ binary: isBinary, text: data.toString('utf8') })
      const reply = answer(data.toString('utf8'))
      if (reply !== undefined) socket.send(reply)
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      for (const client of wss.clients) client.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe('a plugin server that does not know attachments', () => {
  let root: string
  let host: Host
  let server: Awaited<ReturnType<typeof jsonOnlyServer>>

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-json-only-'))
    server = await jsonOnlyServer()
    for (const transport of ['ws', 'http']) {
      await writePlugin(root, `json-only-${transport}`, () => ({ kind: 'exec', entry: 'elsewhere', placement: 'remote', transport, remote: { url: server.url, token: TOKEN } }))
    }
    host = await createHost({ plugins: [root], logger: () => {} })
  })

  after(async () => {
    await host?.close()
    await server?.close()
    await rm(root, { recursive: true, force: true })
  })

  for (const transport of ['ws', 'http']) {
    it(`over ${transport}: the host offers "binary", is not answered with it, and sends bytes as $bytes JSON text; 1 MiB and NUL round-trip`, async () => {
      const id = `json-only-${transport}`
      const from = server.seen.length
      await host.plugin(id).activate()
      assert.ok(!host.list().find((p) => p.id === id)?.capabilities?.includes('binary'), 'not agreed')
      const offered = server.seen.slice(from).find((f) => f.text.includes('"$/hello"'))
      assert.match(offered?.text ?? '', /"capabilities":\["binary"\]/, 'the host offered it')
      for (const [what, make] of PAYLOADS) {
        const payload = make()
        const echoed = (await host.plugin(id).call('echo', [payload])) as Uint8Array
        assert.ok(Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).equals(payload), `${what} round-trips`)
      }
      const sent = server.seen.slice(from)
      assert.ok(sent.every((f) => !f.binary), 'every frame and body the host sent was JSON text')
      assert.ok(sent.some((f) => f.text.includes(`"$bytes"`)), 'bytes went as $bytes')
    })
  }
})

describe('the host end of a WebSocket session', () => {
  it('answers a malformed binary frame from the plugin with PARSE_ERROR and goes on reading, attachments included', async () => {
    const http = createServer((_req, res) => res.writeHead(404).end())
    const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false })
    const fromHost = inbox()
    const plugin = new Promise<WebSocket>((resolve) => wss.on('connection', (socket) => {
      socket.on('message', (data: Buffer, isBinary: boolean) => fromHost.push({ binary: isBinary, data }))
      resolve(socket)
    }))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const channel = await connectHttp({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, token: TOKEN, calls: 'ws' })
    const delivered: unknown[] = []
    channel.onMessage((m) => delivered.push(m))
    try {
      const socket = await plugin
      for (const [what, body] of MALFORMED) {
        socket.send(body, { binary: true })
        const answer = JSON.parse((await fromHost.next()).data.toString()) as { id: unknown; error: { code: number } }
        assert.equal(answer.id, null, what)
        assert.equal(answer.error.code, -32700, what)
      }
      socket.send(attached({ jsonrpc: '2.0', method: 'note', params: [Buffer.from([0, 0, 7])] }), { binary: true })
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('nothing delivered')), 20_000)
        const check = () => (delivered.length ? (clearTimeout(timer), resolve()) : setImmediate(check))
        check()
      })
      assert.deepEqual(delivered, [{ jsonrpc: '2.0', method: 'note', params: [new Uint8Array([0, 0, 7])] }], 'only the well-formed message reached the Peer, its bytes as bytes')
    } finally {
      await channel.close()
      wss.close()
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    }
  })
})

// ---- at the wire ---------------------------------------------------------------------------

/** One received message: a binary frame / payload, or text. */
interface Received {
  binary: boolean
  data: Buffer
}

/** A raw host: sends what it is given as it is, and hands out what comes back in order. */
interface RawWire {
  send(data: Buffer | string, binary: boolean): Promise<void>
  next(): Promise<Received>
  close(): Promise<void>
}

/** A queue of received messages with a waiting reader; `next` fails after 20 s instead of hanging. */
function inbox(): { push(r: Received): void; next(): Promise<Received> } {
  const queued: Received[] = []
  const waiting: ((r: Received) => void)[] = []
  return {
    push(r) {
      const reader = waiting.shift()
      if (reader) reader(r)
      else queued.push(r)
    },
    next() {
      const r = queued.shift()
      if (r) return Promise.resolve(r)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 20 s')), 20_000)
        waiting.push((got) => {
          clearTimeout(timer)
          resolve(got)
        })
      })
    },
  }
}

async function rawWs(url: string, session: string): Promise<RawWire> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?session=${session}`, { headers: { authorization: `Bearer ${TOKEN}` }, perMessageDeflate: false })
  const received = inbox()
  socket.on('message', (data: Buffer, isBinary: boolean) => received.push({ binary: isBinary, data }))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return {
    send: (data, binary) => new Promise((resolve, reject) => socket.send(data, { binary }, (error) => (error ? reject(error) : resolve()))),
    next: () => received.next(),
    close: async () => {
      socket.close()
    },
  }
}

/** A raw host on the broker; `ready` resolves when the plugin announces `$/ready`. */
async function rawMqtt(url: string, id: string, credentials: { username: string; password: string }): Promise<RawWire & { ready: Promise<void> }> {
  const client: MqttClient = await connectAsync(url, { ...credentials, protocolVersion: 4 })
  const received = inbox()
  const from = inboxTopic(id, 'host')
  let announced!: () => void
  const ready = new Promise<void>((resolve) => (announced = resolve))
  client.on('message', (topic, payload) => {
    if (topic !== from) return
    const text = payload.toString('latin1')
    if (text.includes('"$/ready"')) return announced()
    if (text.includes('"$/probe"')) return
    // The host side of MQTT knows binary from the first byte; the test records it the same way.
    received.push({ binary: payload[0] === 0x00, data: payload })
  })
  await client.subscribeAsync(from, { qos: 1 })
  return {
    send: async (data) => void (await client.publishAsync(inboxTopic(id, 'plugin'), data, { qos: 1 })),
    next: () => received.next(),
    close: () => client.endAsync(true),
    ready,
  }
}

const request = (id: number, method: string, params: unknown) => ({ jsonrpc: '2.0', id, method, params })
const attached = (message: unknown) => Buffer.concat(encodeWithAttachments(message))

/** A message with attachments built by hand: a head of `json`, then `area`. */
function handmade(json: string, area: Buffer): Buffer {
  const text = Buffer.from(json)
  const head = Buffer.alloc(5 + text.length)
  head.writeUInt32BE(text.length, 1)
  text.copy(head, 5)
  return Buffer.concat([head, area])
}

const MALFORMED: [string, Buffer][] = [
  ['a head shorter than 5 bytes', Buffer.from([0, 0, 0])],
  ['a JSON length past the end', handmade('{}', Buffer.alloc(0)).fill(0xff, 1, 5)],
  ['a reference past the attachment area', handmade('{"jsonrpc":"2.0","id":70,"method":"echo","params":[{"$bin":[2,5]}]}', Buffer.from([1, 2, 3]))],
]

/** The answer is the attachment layout, the JSON head referencing the payload, which follows it byte for byte. */
function assertAttachedAnswer(answer: Received, id: number, payload: Buffer): void {
  assert.equal(answer.binary, true, 'the answer is binary')
  assert.equal(answer.data[0], 0x00, 'the answer starts with the attachment mark')
  const length = answer.data.readUInt32BE(1)
  const json = answer.data.subarray(5, 5 + length).toString('utf8')
  assert.ok(!json.includes('$bytes'), 'no base64 in the JSON head')
  assert.ok(json.includes(`{"$bin":[0,${payload.length}]}`), `the head references the attachment: ${json.slice(0, 200)}`)
  assert.ok(answer.data.subarray(5 + length).equals(payload), 'the attachment area is the payload, byte for byte')
  assert.deepEqual((decodeWithAttachments(answer.data) as { id: number }).id, id)
}

/** What a raw host sees over `open()`: attachments once agreed, JSON for a peer that offers nothing, PARSE_ERROR for garbage. */
function describeWire(name: string, open: (session: string) => Promise<RawWire>): void {
  describe(name, () => {
    it('offered "binary", the plugin accepts; 0 B, NUL-filled and 1 MiB answers are the attachment layout with the bytes themselves', async () => {
      const wire = await open('binary')
      try {
        await wire.send(JSON.stringify(request(1, '$/hello', { protocol: [1], capabilities: ['binary'] })), false)
        const hello = await wire.next()
        assert.equal(hello.binary, false, 'the hello answer holds no bytes: JSON text')
        assert.ok((JSON.parse(hello.data.toString()) as { result: { capabilities: string[] } }).result.capabilities.includes('binary'))
        let id = 2
        for (const [, make] of PAYLOADS) {
          const payload = make()
          await wire.send(attached(request(id, 'echo', [payload])), true)
          assertAttachedAnswer(await wire.next(), id++, payload)
        }
      } finally {
        await wire.close()
      }
    })

    it('a JSON-only peer (no capability) gets JSON text with $bytes, and may still send base64', async () => {
      const wire = await open('json-only')
      try {
        await wire.send(JSON.stringify(request(1, '$/hello', { protocol: [1] })), false)
        const hello = JSON.parse((await wire.next()).data.toString()) as { result: { capabilities: string[] } }
        assert.ok(!hello.result.capabilities.includes('binary'), 'not offered, not agreed')
        const payload = randomBytes(48)
        await wire.send(JSON.stringify(request(2, 'echo', [{ $bytes: payload.toString('base64') }])), false)
        const answer = await wire.next()
        assert.equal(answer.binary, false)
        assert.deepEqual(JSON.parse(answer.data.toString()), { jsonrpc: '2.0', id: 2, result: { $bytes: payload.toString('base64') } })
      } finally {
        await wire.close()
      }
    })

    it('a malformed message with attachments is answered with PARSE_ERROR (id null), and the connection goes on', async () => {
      const wire = await open('malformed')
      try {
        await wire.send(JSON.stringify(request(1, '$/hello', { protocol: [1], capabilities: ['binary'] })), false)
        await wire.next()
        for (const [what, body] of MALFORMED) {
          await wire.send(body, true)
          const answer = JSON.parse((await wire.next()).data.toString()) as { id: unknown; error: { code: number; data: { code: string } } }
          assert.equal(answer.id, null, what)
          assert.equal(answer.error.code, -32700, what)
          assert.equal(answer.error.data.code, 'PARSE_ERROR', what)
        }
        const payload = Buffer.from([0, 1, 0, 2])
        await wire.send(attached(request(9, 'echo', [payload])), true)
        assertAttachedAnswer(await wire.next(), 9, payload)
      } finally {
        await wire.close()
      }
    })
  })
}

interface PostAnswer {
  type: string
  body: Buffer
}

async function rawPost(url: string, body: Buffer | string, headers: Record<string, string>): Promise<PostAnswer> {
  const response = await fetch(`${url}/rpc`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } })
  assert.equal(response.status, 200)
  return { type: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) }
}

/** POSTs at the wire: bodies of a session that agreed on attachments, a JSON-only client, and malformed bodies. */
function describePost(name: string, url: () => string): void {
  describe(name, () => {
    it('in a session that agreed on "binary", an application/octet-stream body with attachments is answered the same way', async () => {
      const wire = await rawWs(url(), 'post-binary')
      try {
        await wire.send(JSON.stringify(request(1, '$/hello', { protocol: [1], capabilities: ['binary'] })), false)
        await wire.next()
        let id = 2
        for (const [, make] of PAYLOADS) {
          const payload = make()
          const answer = await rawPost(url(), attached(request(id, 'echo', [payload])), { 'content-type': 'application/octet-stream', accept: 'application/json, application/octet-stream', 'x-polyplug-session': 'post-binary' })
          assert.equal(answer.type, 'application/octet-stream')
          assertAttachedAnswer({ binary: true, data: answer.body }, id++, payload)
        }
        // The same session, a POST that does not accept attachments: JSON text with $bytes.
        const payload = Buffer.from([0, 9, 0])
        const plain = await rawPost(url(), attached(request(id, 'echo', [payload])), { 'content-type': 'application/octet-stream', 'x-polyplug-session': 'post-binary' })
        assert.match(plain.type, /^application\/json/)
        assert.deepEqual(JSON.parse(plain.body.toString()), { jsonrpc: '2.0', id, result: { $bytes: payload.toString('base64') } })
      } finally {
        await wire.close()
      }
    })

    it('a JSON-only client (no session, no capability) gets application/json with $bytes', async () => {
      const payload = randomBytes(48)
      const answer = await rawPost(url(), JSON.stringify(request(3, 'echo', [{ $bytes: payload.toString('base64') }])), { 'content-type': 'application/json' })
      assert.match(answer.type, /^application\/json/)
      assert.deepEqual(JSON.parse(answer.body.toString()), { jsonrpc: '2.0', id: 3, result: { $bytes: payload.toString('base64') } })
    })

    it('a malformed body with attachments is answered with PARSE_ERROR, and the server goes on', async () => {
      for (const [what, body] of MALFORMED) {
        const answer = JSON.parse((await rawPost(url(), body, { 'content-type': 'application/octet-stream' })).body.toString()) as { id: unknown; error: { code: number } }
        assert.equal(answer.id, null, what)
        assert.equal(answer.error.code, -32700, what)
      }
      const after = JSON.parse((await rawPost(url(), JSON.stringify(request(4, 'echo', ['after'])), { 'content-type': 'application/json' })).body.toString()) as unknown
      assert.deepEqual(after, { jsonrpc: '2.0', id: 4, result: 'after' })
    })
  })
}

describe('at the wire: the JS SDK plugin server (ws and POST)', () => {
  let server: HttpPluginServer
  before(async () => {
    server = await serveHttpPlugin(echoPlugin, { id: 'wire-js', token: TOKEN })
  })
  after(() => server?.close())
  describeWire('binary WebSocket frames', (session) => rawWs(server.url, session))
  describePost('POST bodies', () => server.url)
})

describeRequiring('at the wire: the Python kit\'s plugin server (ws and POST)', [tools.python3], () => {
  let child: ChildProcess
  let url: string
  before(async () => {
    child = spawn('python3', [join(shared, 'conformance.py')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH ?? '', POLYPLUG_TRANSPORT: 'ws', POLYPLUG_PLUGIN_ID: 'wire-py', POLYPLUG_TOKEN: TOKEN, POLYPLUG_HOST_PID: String(process.pid) },
    })
    url = await awaitListenLine(child, AbortSignal.timeout(60_000))
  })
  after(() => {
    child?.kill('SIGKILL')
  })
  describeWire('binary WebSocket frames', (session) => rawWs(url, session))
  describePost('POST bodies', () => url)
})

describe('at the wire: MQTT payloads (embedded broker)', () => {
  const HOST = { username: 'wire-host', password: 'wire-host-secret' }
  let broker: EmbeddedBroker
  before(async () => {
    broker = await startEmbeddedBroker()
    broker.addUser(HOST.username, 'polyplug/', HOST.password)
  })
  after(async () => {
    await broker?.close()
  })

  /** The JS SDK serving one plugin id in this process; the raw host on the other end. */
  describeWire('the JS SDK', async (session) => {
    const id = `wire-js-${session}`
    const channel = await connectMqtt({ url: broker.url, pluginId: id, side: 'plugin', username: id, password: broker.addUser(id, pluginPrefix(id), `${id}-pw`) })
    servePlugin(channel, echoPlugin, { id })
    const wire = await rawMqtt(broker.url, id, HOST)
    return { ...wire, close: async () => (await wire.close(), await channel.close()) }
  })

  describeRequiring('the C kit', builtWith(cMqtt), () => {
    describeWire('the C kit', async (session) => {
      const id = `wire-c-${session}`
      const password = broker.addUser(id, pluginPrefix(id), `${id}-pw`)
      const wire = await rawMqtt(broker.url, id, HOST)
      const child = spawn(cMqtt, [], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { PATH: process.env.PATH ?? '', POLYPLUG_TRANSPORT: 'mqtt', POLYPLUG_PLUGIN_ID: id, POLYPLUG_TOKEN: TOKEN, POLYPLUG_HOST_PID: String(process.pid), POLYPLUG_MQTT_URL: broker.url, POLYPLUG_MQTT_USERNAME: id, POLYPLUG_MQTT_PASSWORD: password },
      })
      await Promise.race([wire.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('the C plugin did not announce $/ready')), 20_000).unref())])
      return { ...wire, close: async () => (child.kill('SIGKILL'), await wire.close()) }
    })
  })
})
