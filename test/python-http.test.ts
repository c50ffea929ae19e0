/**
 * The Python kit's own HTTP server and WebSocket (kits/python/polyplug_http.py, polyplug_ws.py),
 * driven from outside the host: the token on every request and on the upgrade, the body and
 * frame limits, /health and /manifest, POSTs that belong to a WebSocket session, fragmented
 * frames and pings, and a socket dropped mid-call. examples/python-http and python-ws run the
 * plugin conformance suite through the host (test/conformance.test.ts).
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { WebSocket } from 'ws'
import { Peer } from '../src/rpc/peer.js'
import { connectHttp, postRpc } from '../src/transports/http.js'
import { SESSION_HEADER } from '../src/transports/http-server.js'
import { awaitListenLine } from '../src/transports/http-sidecar.js'
import { connectWs, openSocket } from '../src/transports/ws.js'
import { rejectsWithCode } from './support/assert-code.js'
import { assertBatchAnswered, raw } from './support/raw-http.js'
import { until } from './support/wait.js'
import { examplesDir, fixturesDir } from './support/paths.js'

const TOKEN = 'c'.repeat(32)
const MAX_BODY = 4096
const pluginDir = `${fixturesDir}/sidecar/py-http`
const auth = { authorization: `Bearer ${TOKEN}` }


/** A TCP relay in front of the plugin: `drop()` cuts every connection without a close handshake. */
async function relay(port: number): Promise<{ url: string; drop(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    drop: () => {
      for (const s of sockets) s.destroy()
    },
    close: () => new Promise((r) => server.close(() => r())),
  }
}

describe('the Python kit over http and ws', () => {
  let child: ChildProcess
  let url: string
  let stderrLines = 0
  const ask = async (method: string) => JSON.parse(await postRpc(url, `{"jsonrpc":"2.0","id":"n","method":"${method}"}`, { token: TOKEN })).result as number
  const cancelCount = () => ask('cancelCount')
  /** Resolves once the plugin has begun one more sleep than `before`: the call is in flight there. */
  const sleepBegun = (before: number) => until(async () => (await ask('sleepsBegun')) > before, 10_000, 'the plugin began the sleep')

  before(async () => {
    child = spawn('python3', [`${pluginDir}/plugin.py`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        POLYPLUG_TRANSPORT: 'ws',
        POLYPLUG_HTTP_CALLS: 'ws',
        POLYPLUG_PLUGIN_ID: 'sidecar-py-http',
        POLYPLUG_TOKEN: TOKEN,
        POLYPLUG_HOST_PID: String(process.pid),
        POLYPLUG_MAX_BODY_BYTES: String(MAX_BODY),
      },
    })
    child.stderr!.on('data', (chunk: Buffer) => (stderrLines += chunk.toString().split('\n').length - 1))
    url = await awaitListenLine(child, AbortSignal.timeout(60_000))
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })
  after(() => {
    child.kill('SIGKILL')
  })

  it("serves the manifest the host passed in POLYPLUG_MANIFEST when it has none of its own", async () => {
    const manifest = { id: 'python-http-from-host', version: '1.2.3', kind: 'exec', entry: 'conformance.py' }
    const other = spawn('python3', [`${examplesDir}/shared/conformance.py`], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH ?? '', POLYPLUG_TRANSPORT: 'http', POLYPLUG_HTTP_CALLS: 'post', POLYPLUG_PLUGIN_ID: manifest.id, POLYPLUG_TOKEN: TOKEN, POLYPLUG_HOST_PID: String(process.pid), POLYPLUG_MANIFEST: JSON.stringify(manifest) },
    })
    try {
      const otherUrl = await awaitListenLine(other, AbortSignal.timeout(60_000))
      const served = await raw(otherUrl, { method: 'GET', path: '/manifest', headers: auth })
      assert.equal(served.status, 200)
      assert.deepEqual(JSON.parse(served.body), manifest)
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('refuses requests and upgrades without the token, or with a wrong one, with 401, and logs them', async () => {
    const before = stderrLines
    const wrong = { authorization: `Bearer ${'d'.repeat(32)}` }
    const body = '{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}'
    assert.equal((await raw(url, { method: 'GET', path: '/health' })).status, 401)
    assert.equal((await raw(url, { method: 'POST', path: '/rpc', body })).status, 401)
    assert.equal((await raw(url, { method: 'POST', path: '/rpc', headers: wrong, body })).status, 401)
    await rejectsWithCode(postRpc(url, body, { token: 'd'.repeat(32) }), 'PERMISSION_DENIED')
    await rejectsWithCode(connectWs(`${url.replace('http', 'ws')}/ws`, { token: 'd'.repeat(32) }), 'PERMISSION_DENIED')
    await rejectsWithCode(connectWs(`${url.replace('http', 'ws')}/ws`), 'PERMISSION_DENIED')
    await until(() => stderrLines - before >= 6)
  })

  it('serves /health and /manifest (the polyplug.json beside the script)', async () => {
    const health = await raw(url, { method: 'GET', path: '/health', headers: auth })
    assert.equal(health.status, 200)
    assert.deepEqual({ ...JSON.parse(health.body), sessions: undefined }, { status: 'ok', id: 'sidecar-py-http', sessions: undefined })
    const manifest = await raw(url, { method: 'GET', path: '/manifest', headers: auth })
    assert.equal(manifest.status, 200)
    assert.equal(JSON.parse(manifest.body).id, 'sidecar-py-http')
    assert.equal((await raw(url, { method: 'GET', path: '/nothing', headers: auth })).status, 404)
  })

  it('answers POSTed requests and batches; 204 when nothing needs an answer; PARSE_ERROR for a bad body', async () => {
    assert.deepEqual(JSON.parse(await postRpc(url, '{"jsonrpc":"2.0","id":1,"method":"add","params":[2,40]}', { token: TOKEN })), { jsonrpc: '2.0', id: 1, result: 42 })
    await assertBatchAnswered(url, TOKEN)
    const none = await raw(url, { method: 'POST', path: '/rpc', headers: auth, body: '{"jsonrpc":"2.0","method":"echo","params":[1]}' })
    assert.equal(none.status, 204)
    const bad = await raw(url, { method: 'POST', path: '/rpc', headers: auth, body: '{not json' })
    assert.equal(JSON.parse(bad.body).error.data.code, 'PARSE_ERROR')
    const badId = JSON.parse(await postRpc(url, '{"jsonrpc":"2.0","id":{"x":1},"method":"echo","params":[1]}', { token: TOKEN }))
    assert.equal(badId.error.data.code, 'INVALID_REQUEST')
    // A POST without a WebSocket cannot reach the host.
    const lonely = JSON.parse(await postRpc(url, '{"jsonrpc":"2.0","id":2,"method":"callHost","params":["host/echo",[1]]}', { token: TOKEN }))
    assert.equal(lonely.error.data.code, 'TRANSPORT_UNAVAILABLE')
    assert.equal((await raw(url, { method: 'POST', path: '/rpc', headers: { ...auth, [SESSION_HEADER]: 'unknown' }, body: '{}' })).status, 404)
  })

  it('refuses a body or a frame over POLYPLUG_MAX_BODY_BYTES (413 / close 1009) and keeps serving', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(MAX_BODY * 2)] })
    assert.equal((await raw(url, { method: 'POST', path: '/rpc', headers: auth, body: big })).status, 413)
    await rejectsWithCode(postRpc(url, big, { token: TOKEN }), 'FRAME_TOO_LARGE')
    const socket = await openSocket(`${url.replace('http', 'ws')}/ws`, { token: TOKEN })
    const closed = new Promise<number>((resolve) => socket.once('close', resolve))
    socket.send(big)
    assert.equal(await closed, 1009)
    assert.deepEqual(JSON.parse(await postRpc(url, '{"jsonrpc":"2.0","id":1,"method":"echo","params":["still"]}', { token: TOKEN })).result, 'still')
  })

  for (const calls of ['ws', 'post'] as const) {
    it(`calls by ${calls}: the plugin calls the host over its socket, and cancellation reaches the plugin`, async () => {
      const channel = await connectHttp({ url, token: TOKEN, calls })
      const peer = new Peer(channel, { name: 'sidecar-py-http' })
      peer.handle('host/twice', (params) => (params as number[])[0]! * 2)
      assert.equal(await peer.call('callHost', ['host/twice', [21]]), 42)
      const before = await cancelCount()
      const begun = await ask('sleepsBegun')
      const controller = new AbortController()
      const call = peer.call('sleep', [60_000], { signal: controller.signal })
      await sleepBegun(begun)
      controller.abort()
      await rejectsWithCode(call, 'RPC_CANCELLED')
      const back = await peer.call('echo', [new Uint8Array([1, 2, 3])])
      assert.ok(back instanceof Uint8Array)
      assert.deepEqual([...back], [1, 2, 3])
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => peer.call('add', [i, 1])))
      assert.deepEqual(many, Array.from({ length: 50 }, (_, i) => i + 1))
      await until(async () => (await cancelCount()) === before + 1)
      await peer.close()
    })
  }

  it('a dropped WebSocket fails calls in flight with TRANSPORT_UNAVAILABLE on both sides; a new session works', async () => {
    const cut = await relay(Number(new URL(url).port))
    try {
      for (const calls of ['ws', 'post'] as const) {
        const before = await cancelCount()
        const begun = await ask('sleepsBegun')
        const peer = new Peer(await connectHttp({ url: cut.url, token: TOKEN, calls }))
        const pending = peer.call('sleep', [60_000])
        await sleepBegun(begun)
        cut.drop()
        await rejectsWithCode(pending, 'TRANSPORT_UNAVAILABLE')
        assert.equal(peer.pendingCount, 0)
        // The plugin saw the drop too: the session's call was cancelled.
        await until(async () => (await cancelCount()) === before + 1)
        const again = new Peer(await connectHttp({ url: cut.url, token: TOKEN, calls }))
        assert.equal(await again.call('echo', ['back']), 'back')
        await again.close()
      }
    } finally {
      cut.drop()
      await cut.close()
    }
  })

  it('a POST waiting in a session is answered with TRANSPORT_UNAVAILABLE when that session drops', async () => {
    const socket = await openSocket(`${url.replace('http', 'ws')}/ws?session=drop-me`, { token: TOKEN })
    const begun = await ask('sleepsBegun')
    const answer = postRpc(url, '{"jsonrpc":"2.0","id":7,"method":"sleep","params":[60000]}', { token: TOKEN, session: 'drop-me' })
    await sleepBegun(begun)
    socket.terminate()
    const reply = JSON.parse(await answer) as { id: number; error: { data: { code: string } } }
    assert.equal(reply.id, 7)
    assert.equal(reply.error.data.code, 'TRANSPORT_UNAVAILABLE')
  })

  it('reassembles fragmented messages, answers pings, and never accepts compression', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: auth })
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
    assert.equal(ws.extensions, '')
    const pong = new Promise<string>((resolve) => ws.once('pong', (data) => resolve(String(data))))
    ws.ping('are you there')
    assert.equal(await pong, 'are you there')
    const reply = new Promise<{ id: number; result: unknown }>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))))
    // Three fragments cut at byte offsets, so multi-byte characters straddle fragments.
    const value = 'é✓'.repeat(300)
    const bytes = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'echo', params: [value] }))
    const third = Math.floor(bytes.length / 3) + 1
    ws.send(bytes.subarray(0, third), { binary: false, fin: false })
    ws.send(bytes.subarray(third, 2 * third), { binary: false, fin: false })
    ws.send(bytes.subarray(2 * third), { binary: false, fin: true })
    assert.deepEqual(await reply, { jsonrpc: '2.0', id: 9, result: value })
    // A request with an unusable id is answered INVALID_REQUEST; the socket stays open.
    const invalid = new Promise<{ id: unknown; error: { data: { code: string } } }>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))))
    ws.send('{"jsonrpc":"2.0","id":[1],"method":"echo","params":[1]}')
    assert.deepEqual([(await invalid).id, (await invalid).error.data.code], [null, 'INVALID_REQUEST'])
    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    ws.close(1000)
    assert.equal(await closed, 1000)
  })
})
