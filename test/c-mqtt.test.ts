/**
 * The C sidecar kit over MQTT (kits/c-sidecar/polyplug_mqtt.c, libmosquitto): the c-mqtt example
 * passes the plugin conformance suite through a real Mosquitto (test/conformance.test.ts runs it
 * through the embedded aedes broker), and the C plugin refuses to start — quickly, with a typed
 * error — when the broker refuses its credentials or its subscription, through aedes and Mosquitto.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { Peer } from '../src/rpc/peer.js'
import { silentLogger } from '../src/host/log.js'
import { readManifest } from '../src/manifest/load.js'
import { pluginPrefix, startEmbeddedBroker, type EmbeddedBroker } from '../src/transports/mqtt-broker.js'
import { connectMqtt } from '../src/transports/mqtt.js'
import { freePort, policyUsers, startMosquitto, writeMosquittoConfig, type RunningMosquitto } from './support/mosquitto.js'
import { rejectsWithCode } from './support/assert-code.js'
import { firstAnswer } from './support/wait.js'
import { examplesDir } from './support/paths.js'
import { describePluginConformance } from './support/plugin-suite.js'
import { describeRequiring } from './support/describe-requiring.js'
import { builtWith, requires, tools } from './support/requires.js'
import { PATIENCE_MS } from './support/wait.js'

const binary = `${examplesDir}/shared/bin/c-conformance-mqtt`
const loaded = await readManifest(`${examplesDir}/c-mqtt`)
const id = loaded.manifest.id
const HOST = { username: 'polyplug-host', password: 'host-secret' }
const pluginPassword = 'c-mqtt-secret'
const passwordVar = `POLYPLUG_MQTT_PASSWORD_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
let mosquitto: RunningMosquitto | undefined
let aedes: EmbeddedBroker | undefined
let dir: string | undefined
// Mosquitto, and the C kit built with libmosquitto: without them every test below is a reported skip.
const needs = [tools.mosquitto, ...builtWith(binary)]
const missing = requires(...needs)

before(async () => {
  if (missing) return
  dir = await mkdtemp(join(tmpdir(), 'polyplug-cmqtt-'))
  const port = await freePort()
  const users = policyUsers(HOST, [{ id, password: pluginPassword }, { id: 'p1', password: 'p1-secret' }])
  const files = await writeMosquittoConfig(dir, { port, users })
  mosquitto = await startMosquitto(files.config, port)
  aedes = await startEmbeddedBroker()
  aedes.addUser(HOST.username, 'polyplug/', HOST.password)
  aedes.addUser('p1', pluginPrefix('p1'), 'p1-secret')
  // This test file runs in a process of its own: the variables reach only this host.
  process.env.POLYPLUG_MQTT_URL = mosquitto.url
  process.env.POLYPLUG_MQTT_HOST_USERNAME = HOST.username
  process.env.POLYPLUG_MQTT_HOST_PASSWORD = HOST.password
  process.env[passwordVar] = pluginPassword
})

after(async () => {
  await aedes?.close()
  await mosquitto?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describePluginConformance(loaded, 'through a real Mosquitto broker', [tools.mosquitto])

/** Runs the C plugin directly against a broker; resolves with its exit status and stderr (or fails after 15 s). */
async function runPlugin(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(binary, [], {
    env: { PATH: process.env.PATH ?? '', POLYPLUG_TRANSPORT: 'mqtt', POLYPLUG_TOKEN: 't', POLYPLUG_HOST_PID: String(process.pid), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [status] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { status, stderr }
}

describeRequiring('C kit over mqtt: refusals', needs, () => {
  it('a wrong password through the host: the load fails with PLUGIN_CRASHED (exit status 2), not a hang', async () => {
    process.env[passwordVar] = 'wrong'
    const host = await createHost({ plugins: [loaded.dir], logger: silentLogger, callTimeoutMs: PATIENCE_MS })
    try {
      // PLUGIN_CRASHED with the kit's exit status is the proof: a hang would end as RPC_TIMEOUT.
      const error = await rejectsWithCode(host.plugin(id).call('echo', ['hi']), 'PLUGIN_CRASHED')
      assert.equal((error.data as { exitCode?: number } | undefined)?.exitCode, 2)
      assert.equal(error.plugin, id)
    } finally {
      process.env[passwordVar] = pluginPassword
      await host.close()
    }
  })

  for (const name of ['embedded aedes', 'mosquitto'] as const) {
    const url = () => (name === 'mosquitto' ? mosquitto!.url : aedes!.url)

    it(`${name}: a wrong password exits at once with PERMISSION_DENIED`, async () => {
      const { status, stderr } = await runPlugin({ POLYPLUG_PLUGIN_ID: 'p1', POLYPLUG_MQTT_URL: url(), POLYPLUG_MQTT_USERNAME: 'p1', POLYPLUG_MQTT_PASSWORD: 'wrong' })
      assert.equal(status, 2)
      assert.match(stderr, /PERMISSION_DENIED/)
    })

    it(`${name}: subscribing outside its own topics is refused, and the plugin exits with PERMISSION_DENIED`, async () => {
      // p1's credentials, but the plugin id of another plugin: its inbox polyplug/p2/to-plugin is not p1's.
      const { status, stderr } = await runPlugin({ POLYPLUG_PLUGIN_ID: 'p2', POLYPLUG_MQTT_URL: url(), POLYPLUG_MQTT_USERNAME: 'p1', POLYPLUG_MQTT_PASSWORD: 'p1-secret' })
      assert.equal(status, 2)
      assert.match(stderr, /PERMISSION_DENIED/)
      if (name === 'embedded aedes') assert.ok(aedes!.refusals.some((r) => r.what === 'subscribe' && r.topic === 'polyplug/p2/to-plugin'))
    })

    it(`${name}: announces $/ready, then exits when its host process is gone`, async () => {
      const channel = await connectMqtt({ url: url(), pluginId: 'p1', side: 'host', ...HOST })
      const ready = new Promise<void>((resolve) => channel.onMessage((m) => (m as { method?: string }).method === '$/ready' && resolve()))
      const fakeHost = spawn('sleep', ['60'], { stdio: 'ignore' })
      await once(fakeHost, 'spawn')
      const run = runPlugin({ POLYPLUG_PLUGIN_ID: 'p1', POLYPLUG_MQTT_URL: url(), POLYPLUG_MQTT_USERNAME: 'p1', POLYPLUG_MQTT_PASSWORD: 'p1-secret', POLYPLUG_HOST_PID: String(fakeHost.pid) })
      try {
        await ready
        fakeHost.kill('SIGKILL')
        const { status } = await run
        assert.equal(status, 0)
      } finally {
        fakeHost.kill('SIGKILL')
        await channel.close()
      }
    })
  }

  it('mosquitto restarts: the C plugin reconnects with backoff, resubscribes and answers again', async () => {
    const own = await mkdtemp(join(tmpdir(), 'polyplug-cmqtt-restart-'))
    const port = await freePort()
    const files = await writeMosquittoConfig(own, { port, users: policyUsers(HOST, [{ id: 'p1', password: 'p1-secret' }]) })
    let broker = await startMosquitto(files.config, port)
    const channel = await connectMqtt({ url: broker.url, pluginId: 'p1', side: 'host', ...HOST })
    const ready = new Promise<void>((resolve) => channel.onMessage((m) => (m as { method?: string }).method === '$/ready' && resolve()))
    const child = spawn(binary, [], {
      env: { PATH: process.env.PATH ?? '', POLYPLUG_TRANSPORT: 'mqtt', POLYPLUG_TOKEN: 't', POLYPLUG_HOST_PID: String(process.pid), POLYPLUG_PLUGIN_ID: 'p1', POLYPLUG_MQTT_URL: broker.url, POLYPLUG_MQTT_USERNAME: 'p1', POLYPLUG_MQTT_PASSWORD: 'p1-secret' },
      stdio: 'ignore',
    })
    try {
      await ready
      const client = new Peer(channel, { name: 'p1' })
      assert.equal(await client.call('echo', ['before']), 'before')
      await broker.stop()
      broker = await startMosquitto(files.config, port)
      const answer = await firstAnswer(() => client.call('echo', ['after'], { timeout: 2000 }), 20_000, 200)
      assert.equal(answer, 'after')
      assert.equal(child.exitCode, null, 'the plugin lived through the broker restart')
    } finally {
      child.kill('SIGKILL')
      await channel.close()
      await broker.stop()
      await rm(own, { recursive: true, force: true })
    }
  })
})
