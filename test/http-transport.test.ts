import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { createServer as createHttpServer, request } from 'node:http'
import { WebSocket } from 'ws'
import type { Channel } from '../src/channels/channel.js'
import { ErrorCodes } from '../src/errors/index.js'
import { createHost } from '../src/host/host.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { Peer } from '../src/rpc/peer.js'
import { binaryJsonCodec } from '../src/rpc/attachments.js'
import { definePlugin } from '../src/sdk/define.js'
import { serveHttpPlugin } from '../src/sdk/serve-http.js'
import { serveHttp, SESSION_HEADER, type HttpPluginServer } from '../src/transports/http-server.js'
import { connectHttp, postRpc } from '../src/transports/http.js'
import { connectWs } from '../src/transports/ws.js'
import { rejectsWithCode } from './support/assert-code.js'
import { assertBatchAnswered, raw } from './support/raw-http.js'
import { describeChannel } from './support/channel-suite.js'
import { until, within } from './support/wait.js'
import { examplesDir } from './support/paths.js'

const TOKEN = 'a'.repeat(32)

describeChannel('ws (WebSocket alone)', async () => {
  let pluginSide: Channel | undefined
  const server = await serveHttp({ token: TOKEN, onSession: (c) => (pluginSide = c) })
  const host = await connectWs(`${server.url.replace('http', 'ws')}/ws`, { token: TOKEN })
  await until(() => pluginSide !== undefined)
  return { host, plugin: pluginSide!, dispose: () => server.close() }
})

describeChannel('http (WebSocket session, calls by POST)', async () => {
  let pluginSide: Channel | undefined
  const server = await serveHttp({ token: TOKEN, onSession: (c) => (pluginSide = c) })
  const host = await connectHttp({ url: server.url, token: TOKEN, calls: 'post' })
  await until(() => pluginSide !== undefined)
  return { host, plugin: pluginSide!, dispose: () => server.close() }
})

/** What the plugin has seen: sleeps begun and sleeps cancelled (tests wait on these, not on clocks). */
const seen = { sleeping: 0, cancelled: 0 }

const plugin = definePlugin({
  methods: {
    echo: (v: unknown) => v,
    sleep: (ms: number, ctx: { signal: AbortSignal }) =>
      new Promise((resolve, reject) => {
        seen.sleeping++
        const t = setTimeout(resolve, ms, 'slept')
        ctx.signal.addEventListener('abort', () => (seen.cancelled++, clearTimeout(t), reject(Object.assign(new Error('cancelled'), { code: 'RPC_CANCELLED' }))))
      }),
    askHost: async (ctx: { plugin: { call(m: string, a: unknown[]): Promise<unknown> } }) => ctx.plugin.call('host/twice', [21]),
  },
})


describe('http transport', () => {
  let server: HttpPluginServer
  const refused: number[] = []
  before(async () => {
    server = await serveHttpPlugin(plugin, { id: 'h', token: TOKEN, manifest: { id: 'h' }, maxBodyBytes: 4096, onRefused: (r) => refused.push(r.status) })
  })
  after(() => server.close())

  it('refuses requests and upgrades without the token, with 401, and reports them', async () => {
    const before = refused.length
    assert.equal((await raw(server.url, { method: 'GET', path: '/health' })).status, 401)
    const wrong = { authorization: `Bearer ${'b'.repeat(32)}` }
    assert.equal((await raw(server.url, { method: 'POST', path: '/rpc', headers: wrong, body: '{}' })).status, 401)
    await rejectsWithCode(connectWs(`${server.url.replace('http', 'ws')}/ws`, { token: 'nope' }), 'PERMISSION_DENIED')
    await rejectsWithCode(postRpc(server.url, '{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}', { token: 'nope' }), 'PERMISSION_DENIED')
    assert.equal(refused.length - before, 4)
  })

  it('serves /health and /manifest with the token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    const health = await raw(server.url, { method: 'GET', path: '/health', headers: auth })
    assert.equal(health.status, 200)
    assert.equal(JSON.parse(health.body).status, 'ok')
    assert.deepEqual(JSON.parse((await raw(server.url, { method: 'GET', path: '/manifest', headers: auth })).body), { id: 'h' })
  })

  it('answers POSTed requests and batches without a WebSocket', async () => {
    const one = JSON.parse(await postRpc(server.url, '{"jsonrpc":"2.0","id":1,"method":"echo","params":["x"]}', { token: TOKEN }))
    assert.deepEqual(one, { jsonrpc: '2.0', id: 1, result: 'x' })
    await assertBatchAnswered(server.url, TOKEN)
  })

  it('refuses a body over the limit with FRAME_TOO_LARGE', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(8000)] })
    await rejectsWithCode(postRpc(server.url, big, { token: TOKEN }), 'FRAME_TOO_LARGE')
  })

  for (const calls of ['ws', 'post'] as const) {
    it(`calls by ${calls}: the plugin calls the host, and cancellation reaches the plugin`, async () => {
      const channel = await connectHttp({ url: server.url, token: TOKEN, calls })
      const peer = new Peer(channel, { name: 'h' })
      peer.handle('host/twice', (params) => (params as number[])[0]! * 2)
      assert.equal(await peer.call('askHost'), 42)
      const controller = new AbortController()
      const { sleeping, cancelled } = seen
      const call = peer.call('sleep', [60_000], { signal: controller.signal })
      await until(() => seen.sleeping > sleeping, 10_000, 'the plugin began the call')
      controller.abort()
      await rejectsWithCode(call, 'RPC_CANCELLED')
      await until(() => seen.cancelled > cancelled, 10_000, 'the cancellation reached the plugin')
      assert.equal(await peer.call('echo', [new Uint8Array([1, 2, 3])]).then((b) => [...(b as Uint8Array)]).then(String), '1,2,3')
      await channel.close()
    })
  }

  it('a dropped WebSocket fails calls in flight with TRANSPORT_UNAVAILABLE; a new connection works', async () => {
    for (const calls of ['ws', 'post'] as const) {
      const channel = await connectHttp({ url: server.url, token: TOKEN, calls })
      const peer = new Peer(channel)
      const { sleeping } = seen
      const pending = peer.call('sleep', [60_000])
      await until(() => seen.sleeping > sleeping, 10_000, 'the plugin began the call')
      server.dropSockets()
      await rejectsWithCode(pending, 'TRANSPORT_UNAVAILABLE')
      assert.equal(peer.pendingCount, 0)
      const again = new Peer(await connectHttp({ url: server.url, token: TOKEN, calls }))
      assert.equal(await again.call('echo', ['back']), 'back')
      await again.close()
    }
  })

  it('a POST that meets a session the plugin has closed fails with CHANNEL_CLOSED, not a transport error', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}'
    await rejectsWithCode(postRpc(server.url, body, { token: TOKEN, session: 'closed-a-moment-ago' }), 'CHANNEL_CLOSED')
  })

  it('a POST that fails fails its call with a typed error naming the plugin, the method and the HTTP status; the channel goes on', async () => {
    // A plain server answering each POST by its path's last request: garbage, HTTP 500, 401, then a good answer.
    const answers = [
      (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{not json'),
      (res: import('node:http').ServerResponse) => res.writeHead(500).end(),
      (res: import('node:http').ServerResponse) => res.writeHead(401).end(),
      (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":4,"result":"ok"}'),
    ]
    let posts = 0
    const plain = createHttpServer((req, res) => {
      req.resume()
      req.on('end', () => answers[posts++]!(res))
    })
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r))
    const channel = await connectHttp({ url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, token: TOKEN, websocket: false })
    const peer = new Peer(channel, { name: 'plain' })
    try {
      const unreadable = await rejectsWithCode(peer.call('echo', [1]), 'PARSE_ERROR')
      const failed = await rejectsWithCode(peer.call('echo', [2]), 'TRANSPORT_UNAVAILABLE')
      const refused = await rejectsWithCode(peer.call('echo', [3]), 'PERMISSION_DENIED')
      for (const error of [unreadable, failed, refused]) {
        assert.equal(error.plugin, 'plain')
        assert.equal(error.method, 'echo')
      }
      assert.deepEqual(failed.data, { status: 500 })
      assert.deepEqual(refused.data, { status: 401 })
      assert.equal(await peer.call('echo', [4]), 'ok', 'the channel goes on after failed POSTs')
    } finally {
      await peer.close()
      plain.closeAllConnections()
      plain.close()
    }
  })

  it('a request whose POST meets a dropped connection is answered with TRANSPORT_UNAVAILABLE, or with what the channel\'s owner explains it as', async () => {
    // A plain server that drops the connection of every POST it reads.
    const plain = createHttpServer((req) => {
      req.resume()
      req.on('end', () => req.socket.destroy())
    })
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r))
    const channel = await connectHttp({ url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, token: TOKEN, websocket: false })
    const peer = new Peer(channel, { name: 'plain' })
    try {
      const dropped = await rejectsWithCode(peer.call('echo', [1]), 'TRANSPORT_UNAVAILABLE')
      assert.equal(dropped.plugin, 'plain')
      assert.equal(dropped.method, 'echo')
      // The owner's explanation arrives later (as an exit status does): the call waits for it.
      const asked: string[] = []
      channel.explainFailures!((error) => {
        asked.push(error.code)
        return new Promise((r) => setImmediate(() => r(new PolyplugError(ErrorCodes.PLUGIN_CRASHED, 'plugin process exited (code 3)', { plugin: 'plain', data: { exitCode: 3, signal: null } }))))
      })
      const crashed = await rejectsWithCode(peer.call('echo', [2]), 'PLUGIN_CRASHED')
      assert.equal(crashed.plugin, 'plain')
      assert.equal(crashed.method, 'echo')
      assert.deepEqual(crashed.data, { exitCode: 3, signal: null })
      assert.deepEqual(asked, ['TRANSPORT_UNAVAILABLE'])
      // Not a request: a POST-only channel's notification still fails its send.
      await rejectsWithCode(peer.notify('note', [1]), 'TRANSPORT_UNAVAILABLE')
      assert.equal(peer.pendingCount, 0)
    } finally {
      await peer.close()
      plain.closeAllConnections()
      plain.close()
    }
  })

  it('a server that accepts the connection and never answers the upgrade fails the connect by its deadline', { timeout: 30_000 }, async () => {
    const accepted: Socket[] = []
    const silent = createServer((socket) => void accepted.push(socket)) // accepts, answers nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    try {
      const { port } = silent.address() as AddressInfo
      await rejectsWithCode(connectHttp({ url: `http://127.0.0.1:${port}`, token: TOKEN, calls: 'post', connectTimeoutMs: 300 }), 'TRANSPORT_UNAVAILABLE')
    } finally {
      for (const socket of accepted) socket.destroy()
      silent.close()
    }
  })

  it('a POST names the plugin\'s host and port, the token, its media types, its length and its session, each once', async () => {
    const seenHeaders: string[][] = []
    const plain = createHttpServer((req, res) => {
      seenHeaders.push(req.rawHeaders)
      req.resume()
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":1}'))
    })
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r))
    try {
      const { port } = plain.address() as AddressInfo
      const body = '{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}'
      await postRpc(`http://127.0.0.1:${port}`, body, { token: TOKEN, session: 's-1' })
      const channel = await connectHttp({ url: `http://127.0.0.1:${port}/`, token: TOKEN, websocket: false })
      const answers: unknown[] = []
      channel.onMessage((m) => answers.push(m))
      // A request is taken at once; its answer arrives as a message.
      assert.equal(channel.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] }), undefined)
      await until(() => answers.length > 0, 10_000, 'the POST was answered')
      await channel.close()
      assert.deepEqual(answers, [{ jsonrpc: '2.0', id: 1, result: 1 }])
      const named = seenHeaders.map((raw) => {
        const pairs: Record<string, string[]> = {}
        for (let i = 0; i < raw.length; i += 2) (pairs[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!)
        return pairs
      })
      assert.equal(named.length, 2)
      for (const headers of named) {
        assert.deepEqual(headers.host, [`127.0.0.1:${port}`])
        assert.deepEqual(headers.authorization, [`Bearer ${TOKEN}`])
        assert.deepEqual(headers['content-type'], ['application/json'])
        assert.deepEqual(headers['content-length'], [String(Buffer.byteLength(body))])
      }
      assert.deepEqual(named[0]![SESSION_HEADER], ['s-1'])
      assert.equal(named[1]![SESSION_HEADER], undefined, 'a POST-only channel names no session')
      assert.equal(named[0]!.accept, undefined)
      assert.equal(named[1]!.accept?.length, 1, 'polyplug\'s own POST says which answers it reads')
    } finally {
      plain.close()
    }
  })

  it('a channel\'s POSTs of either form, one after another, each carry their own media type, length, path and method', async () => {
    const seen: { method: string | undefined; url: string | undefined; type: string | undefined; length: string | undefined; bytes: number }[] = []
    const plain = createHttpServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], length: req.headers['content-length'], bytes: body.byteLength })
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"jsonrpc":"2.0","id":${seen.length},"result":1}`)
      })
    })
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r))
    try {
      const { port } = plain.address() as AddressInfo
      const channel = await connectHttp({ url: `http://127.0.0.1:${port}`, token: TOKEN, websocket: false })
      channel.useCodec?.(binaryJsonCodec)
      const answers: unknown[] = []
      channel.onMessage((m) => answers.push(m))
      const requests = [
        { jsonrpc: '2.0', id: 1, method: 'echo', params: [new Uint8Array(300).fill(7)] },
        { jsonrpc: '2.0', id: 2, method: 'echo', params: ['plain text'] },
        { jsonrpc: '2.0', id: 3, method: 'echo', params: [new Uint8Array(5)] },
      ]
      for (const message of requests) {
        channel.send(message)
        await until(() => answers.length === message.id, 10_000, `POST ${message.id} answered`)
      }
      await channel.close()
      assert.deepEqual(
        seen.map((s) => [s.method, s.url, s.type, Number(s.length) === s.bytes]),
        [
          ['POST', '/rpc', 'application/octet-stream', true],
          ['POST', '/rpc', 'application/json', true],
          ['POST', '/rpc', 'application/octet-stream', true],
        ],
      )
      assert.notEqual(seen[0]!.bytes, seen[2]!.bytes, 'each POST states its own length')
    } finally {
      plain.close()
    }
  })

  it('a raw WebSocket client with compression requested still gets none', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } })
    await new Promise((r) => ws.once('open', r))
    assert.equal(ws.extensions, '')
    ws.close()
  })
})

describe('http transport: answers of calls that came by POST', () => {
  /** A session's plugin side driven by hand, its WebSocket read raw: what the answer of each call rides on. */
  async function session(sid: string) {
    let pluginSide: Channel | undefined
    const server = await serveHttp({ token: TOKEN, onSession: (c) => (pluginSide = c) })
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?session=${sid}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const frames: unknown[] = []
    ws.on('message', (data) => frames.push(JSON.parse(String(data))))
    await new Promise((r) => ws.once('open', r))
    await until(() => pluginSide !== undefined)
    const received: unknown[] = []
    pluginSide!.onMessage((m) => received.push(m))
    return { server, ws, plugin: pluginSide!, frames, received }
  }
  const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length

  it('a call whose POST was abandoned is answered over the session\'s WebSocket; a later POST with the same id gets its own answer', async () => {
    const { server, ws, plugin, frames, received } = await session('abandoned')
    try {
      const open = sockets()
      const req = request(`${server.url}/rpc`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${TOKEN}`, [SESSION_HEADER]: 'abandoned' } })
      req.on('error', () => {}) // destroyed on purpose below
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'slow' }))
      await until(() => received.length === 1, 10_000, 'the plugin got the call')
      req.destroy()
      await until(() => sockets() <= open, 10_000, 'the POST\'s connection closed on both ends')
      await plugin.send({ jsonrpc: '2.0', id: 7, result: 'late' })
      await until(() => frames.length === 1, 10_000, 'the answer came over the WebSocket')
      assert.deepEqual(frames[0], { jsonrpc: '2.0', id: 7, result: 'late' })

      const next = postRpc(server.url, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'slow' }), { token: TOKEN, session: 'abandoned' })
      await until(() => received.length === 2, 10_000, 'the plugin got the second call')
      await plugin.send({ jsonrpc: '2.0', id: 7, result: 'in its response' })
      assert.deepEqual(JSON.parse(await within(next, 'the second POST\'s answer')), { jsonrpc: '2.0', id: 7, result: 'in its response' })
      assert.equal(frames.length, 1)
    } finally {
      ws.close()
      await server.close()
    }
  })

  it('a batch is answered once all its requests are, an id repeated in it counting once', async () => {
    const { server, ws, plugin, frames, received } = await session('batch')
    try {
      const batch = [
        { jsonrpc: '2.0', id: 1, method: 'a' },
        { jsonrpc: '2.0', method: 'note' },
        { jsonrpc: '2.0', id: 2, method: 'b' },
        { jsonrpc: '2.0', id: 2, method: 'b' },
      ]
      const answer = postRpc(server.url, JSON.stringify(batch), { token: TOKEN, session: 'batch' })
      await until(() => received.length === 4, 10_000, 'the plugin got the batch')
      await plugin.send({ jsonrpc: '2.0', id: 2, result: 'two' })
      await plugin.send({ jsonrpc: '2.0', id: 1, result: 'one' })
      assert.deepEqual(JSON.parse(await within(answer, 'the batch\'s answer')), [{ jsonrpc: '2.0', id: 2, result: 'two' }, { jsonrpc: '2.0', id: 1, result: 'one' }])
      await plugin.send({ jsonrpc: '2.0', id: 2, result: 'again' }) // the repeated id: its POST is answered already
      await until(() => frames.length === 1, 10_000, 'the second answer came over the WebSocket')
      assert.deepEqual(frames[0], { jsonrpc: '2.0', id: 2, result: 'again' })
    } finally {
      ws.close()
      await server.close()
    }
  })
})

describe('http transport, process placement', () => {
  it('a plugin that crashes mid-call fails that call and the calls in flight with PLUGIN_CRASHED naming it, not a dropped POST', async () => {
    const host = await createHost({ plugins: [examplesDir], logger: () => {} })
    after(() => host.close())
    const plugin = host.plugin('echo-process-http')
    assert.equal(await plugin.call('echo', ['up']), 'up')
    const inflight = rejectsWithCode(plugin.call('sleep', [60_000]), 'PLUGIN_CRASHED')
    const crash = await rejectsWithCode(plugin.call('crash'), 'PLUGIN_CRASHED')
    assert.equal(crash.plugin, 'echo-process-http')
    assert.equal((await inflight).plugin, 'echo-process-http')
    assert.equal(await plugin.call('echo', ['back']), 'back', 'the next call starts it again')
  })
})
