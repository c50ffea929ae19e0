import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { definePlugin } from '../src/sdk/define.js'
import { servePlugin } from '../src/sdk/serve.js'
import { serveHttpPlugin } from '../src/sdk/serve-http.js'
import { pluginPrefix, startEmbeddedBroker, type EmbeddedBroker } from '../src/transports/mqtt-broker.js'
import { connectMqtt } from '../src/transports/mqtt.js'
import { socketChannel } from '../src/transports/socket.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'

const TOKEN = 'r'.repeat(40)
/** Sleeps begun by the plugin: tests wait for the call to arrive before cutting the line. */
let sleeping = 0
const plugin = definePlugin({
  methods: {
    echo: (v: unknown) => v,
    sleep: (ms: number, ctx: { signal: AbortSignal }) =>
      new Promise((resolve) => {
        sleeping++
        const timer = setTimeout(resolve, ms)
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(null)))
      }),
  },
})

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyplug-remote-'))
  process.env.POLYPLUG_TEST_REMOTE_TOKEN = TOKEN
})
after(() => rm(dir, { recursive: true, force: true }))

/** Writes a manifest for a plugin that runs elsewhere; returns its folder. */
async function remoteManifest(id: string, transport: string, remote: Record<string, unknown>): Promise<string> {
  const folder = join(dir, id)
  await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }))
  await writeFile(join(folder, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'exec', entry: 'elsewhere', placement: 'remote', transport, remote }))
  return folder
}

describe('remote placement', () => {
  it('calls a plugin running elsewhere over http (POST) and ws, with the configured token', async () => {
    process.env.POLYPLUG_TOKEN = TOKEN // what the operator gave the remote plugin: it answers $/hello with it
    const server = await serveHttpPlugin(plugin, { id: 'far-http', token: TOKEN })
    try {
      for (const scheme of ['http', 'ws']) {
        const folder = await remoteManifest(`far-${scheme}`, scheme, { url: server.url.replace('http', scheme), tokenEnv: 'POLYPLUG_TEST_REMOTE_TOKEN' })
        const host = await createHost({ plugins: [folder], logger: silentLogger })
        assert.equal(await host.plugin(`far-${scheme}`).call('echo', ['far']), 'far')
        await host.close()
      }
      const wrong = await remoteManifest('far-wrong', 'http', { url: server.url, token: 'not-the-token' })
      const host = await createHost({ plugins: [wrong], logger: silentLogger })
      await rejectsWithCode(host.plugin('far-wrong').call('echo', [1]), 'PERMISSION_DENIED')
      await host.close()
    } finally {
      await server.close()
    }
  })

  it("an http:// url with transport ws sends calls over the WebSocket; transport http sends them by POST", async () => {
    process.env.POLYPLUG_TOKEN = TOKEN
    const server = await serveHttpPlugin(plugin, { id: 'far-choice', token: TOKEN })
    const proxy = await countingProxy(new URL(server.url).port)
    try {
      for (const transport of ['ws', 'http']) {
        const folder = await remoteManifest(`far-${transport}-calls`, transport, { url: `http://127.0.0.1:${proxy.port}`, tokenEnv: 'POLYPLUG_TEST_REMOTE_TOKEN' })
        const host = await createHost({ plugins: [folder], logger: silentLogger })
        await host.plugin(`far-${transport}-calls`).activate()
        const before = proxy.posts()
        for (let i = 0; i < 5; i++) assert.equal(await host.plugin(`far-${transport}-calls`).call('echo', [i]), i)
        assert.equal(proxy.posts() - before, transport === 'ws' ? 0 : 5)
        await host.close()
      }
    } finally {
      await proxy.close()
      await server.close()
    }
  })

  it('rejects a transport that cannot reach the url, naming the field', async () => {
    const folder = await remoteManifest('far-mismatch', 'mqtt', { url: 'http://127.0.0.1:1', token: TOKEN })
    const host = await createHost({ plugins: [folder], logger: silentLogger })
    try {
      const problem = host.invalid().find((p) => p.dir === folder)
      assert.ok(problem, 'the manifest should be reported invalid')
      assert.equal(problem.error.code, 'MANIFEST_INVALID')
      assert.ok((problem.error.data as { problems: { path: string }[] }).problems.some((p) => p.path === '/transport'))
    } finally {
      await host.close()
    }
  })

  it('calls a plugin listening on tcp:// (length-framed), and fails calls when it goes away', async () => {
    process.env.POLYPLUG_TOKEN = TOKEN
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      servePlugin(socketChannel(socket, { framing: 'length', maxFrameBytes: 1 << 20 }), plugin, { id: 'far-tcp' })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const folder = await remoteManifest('far-tcp', 'tcp', { url: `tcp://127.0.0.1:${port}`, tokenEnv: 'POLYPLUG_TEST_REMOTE_TOKEN', pingIntervalMs: 2000 })
    const host = await createHost({ plugins: [folder], logger: silentLogger })
    try {
      assert.equal(await host.plugin('far-tcp').call('echo', ['over tcp']), 'over tcp')
      const began = sleeping
      const pending = host.plugin('far-tcp').call('sleep', [4000])
      pending.catch(() => {})
      await until(() => sleeping > began, 10_000, 'the call reached the plugin')
      for (const socket of sockets) socket.destroy()
      const error = await rejectsWithCode(pending, 'PLUGIN_CRASHED')
      assert.equal(error.plugin, 'far-tcp')
    } finally {
      await host.close()
      await new Promise((r) => server.close(r))
    }
  })

  it('uses TLS for https:// with a self-signed certificate made at test time', async () => {
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
    const server = await serveHttpPlugin(plugin, { id: 'far-tls', token: TOKEN, tls: { key: await readFile(key), cert: await readFile(cert) } })
    try {
      assert.ok(server.url.startsWith('https://'))
      const folder = await remoteManifest('far-tls', 'http', { url: server.url.replace('https', 'wss'), tokenEnv: 'POLYPLUG_TEST_REMOTE_TOKEN', ca: '../cert.pem' })
      const host = await createHost({ plugins: [folder], logger: silentLogger })
      assert.equal(await host.plugin('far-tls').call('echo', ['secure']), 'secure')
      await host.close()
      const untrusted = await remoteManifest('far-untrusted', 'http', { url: server.url, tokenEnv: 'POLYPLUG_TEST_REMOTE_TOKEN' })
      const host2 = await createHost({ plugins: [untrusted], logger: silentLogger })
      await rejectsWithCode(host2.plugin('far-untrusted').call('echo', [1]), 'TRANSPORT_UNAVAILABLE')
      await host2.close()
    } finally {
      await server.close()
    }
  })

  describe('over mqtt', () => {
    let broker: EmbeddedBroker
    before(async () => {
      broker = await startEmbeddedBroker()
      broker.addUser('polyplug-host', 'polyplug/', TOKEN)
      broker.addUser('far-mqtt', pluginPrefix('far-mqtt'), 'plugin-secret')
    })
    after(() => broker.close())

    it('calls it through the broker; when it vanishes, the heartbeat fails calls with TRANSPORT_UNAVAILABLE', async () => {
      const channel = await connectMqtt({ url: broker.url, pluginId: 'far-mqtt', side: 'plugin', username: 'far-mqtt', password: 'plugin-secret' })
      process.env.POLYPLUG_TOKEN = TOKEN
      servePlugin(channel, plugin, { id: 'far-mqtt' })
      const folder = await remoteManifest('far-mqtt', 'mqtt', { url: `mqtt://polyplug-host@${broker.url.slice('mqtt://'.length)}`, tokenEnv: 'POLYPLUG_TEST_REMOTE_TOKEN', pingIntervalMs: 1500 })
      const host = await createHost({ plugins: [folder], logger: silentLogger })
      try {
        assert.equal(await host.plugin('far-mqtt').call('echo', ['via broker']), 'via broker')
        const began = sleeping
        const pending = host.plugin('far-mqtt').call('sleep', [4000])
        pending.catch(() => {})
        await until(() => sleeping > began, 10_000, 'the call reached the plugin')
        // The plugin disappears without a word: its connection is cut.
        broker.removeUser('far-mqtt')
        await forceDrop(broker, 'far-mqtt')
        await rejectsWithCode(pending, 'TRANSPORT_UNAVAILABLE')
      } finally {
        await host.close()
        await channel.close()
      }
    })
  })
})

/** A TCP proxy to `port` that counts the POST requests passing through it. */
async function countingProxy(port: string): Promise<{ port: number; posts(): number; close(): Promise<void> }> {
  let posts = 0
  const open = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(Number(port), '127.0.0.1')
    open.add(client).add(upstream)
    client.on('data', (chunk: Buffer) => {
      posts += chunk.toString('latin1').split('POST /rpc').length - 1
      upstream.write(chunk)
    })
    upstream.pipe(client)
    const end = () => (client.destroy(), upstream.destroy())
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    posts: () => posts,
    close: () => {
      for (const socket of open) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Cuts a client's TCP connection at the broker, as a crashed machine would. */
async function forceDrop(broker: EmbeddedBroker, username: string): Promise<void> {
  await broker.disconnect(username)
}
