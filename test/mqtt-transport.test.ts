import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Peer } from '../src/rpc/peer.js'
import { startEmbeddedBroker, pluginPrefix, type EmbeddedBroker } from '../src/transports/mqtt-broker.js'
import { connectMqtt } from '../src/transports/mqtt.js'
import { freePort, policyUsers, startMosquitto, writeMosquittoConfig, type RunningMosquitto } from './support/mosquitto.js'
import { rejectsWithCode } from './support/assert-code.js'
import { firstAnswer, until } from './support/wait.js'
import { describeChannel } from './support/channel-suite.js'
import { describeRequiring } from './support/describe-requiring.js'
import { tools } from './support/requires.js'

const HOST = { username: 'polyplug-host', password: 'host-secret' }

/** A broker under test: its URL, plus a way to stop and restart it on the same port. */
interface Broker {
  url: string
  stop(): Promise<void>
  restart(): Promise<void>
}

async function embedded(port = 0): Promise<Broker & { inner: EmbeddedBroker }> {
  let inner = await startEmbeddedBroker({ port })
  const users = () => {
    inner.addUser(HOST.username, 'polyplug/', HOST.password)
    for (const id of ['p1', 'p2', 'chan']) inner.addUser(id, pluginPrefix(id), `${id}-secret`)
  }
  users()
  const broker = {
    inner,
    url: inner.url,
    stop: () => inner.close(),
    async restart() {
      inner = await startEmbeddedBroker({ port: inner.port })
      broker.inner = inner
      users()
    },
  }
  return broker
}

async function mosquitto(): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-mosq-'))
  const port = await freePort()
  const users = policyUsers(HOST, ['p1', 'p2', 'chan'].map((id) => ({ id, password: `${id}-secret` })))
  const files = await writeMosquittoConfig(dir, { port, users })
  let running: RunningMosquitto | undefined = await startMosquitto(files.config, port)
  return {
    url: running.url,
    async stop() {
      await running?.stop()
      running = undefined
    },
    async restart() {
      running = await startMosquitto(files.config, port)
    },
  }
}

function pair(broker: Broker, id: string, protocolVersion: 4 | 5 = 4) {
  return Promise.all([
    connectMqtt({ url: broker.url, pluginId: id, side: 'host', ...HOST, protocolVersion }),
    connectMqtt({ url: broker.url, pluginId: id, side: 'plugin', username: id, password: `${id}-secret`, protocolVersion }),
  ])
}

for (const [name, start] of [['embedded aedes', () => embedded()], ['mosquitto', mosquitto]] as const) {
  // Mosquitto is an optional system package: without it its half is a reported skip.
  describeRequiring(`mqtt via ${name}: channel and transport`, name === 'mosquitto' ? [tools.mosquitto] : [], () => {
    describeChannel(`mqtt via ${name}`, async () => {
      const broker = await start()
      const [host, plugin] = await pair(broker, 'chan')
      return { host, plugin, dispose: () => broker.stop() }
    })

    describe(`mqtt via ${name}`, () => {
      let broker: Broker
      before(async () => {
        broker = await start()
      })
      after(() => broker.stop())

      it('refuses wrong credentials, and a plugin subscribing to another plugin\'s topics', async () => {
        await rejectsWithCode(connectMqtt({ url: broker.url, pluginId: 'p1', side: 'plugin', username: 'p1', password: 'wrong' }), 'PERMISSION_DENIED')
        await rejectsWithCode(connectMqtt({ url: broker.url, pluginId: 'p2', side: 'plugin', username: 'p1', password: 'p1-secret' }), 'PERMISSION_DENIED')
        await rejectsWithCode(connectMqtt({ url: broker.url, pluginId: 'p2', side: 'host', username: 'p1', password: 'p1-secret' }), 'PERMISSION_DENIED')
      })

      for (const version of [4, 5] as const) {
        if (version === 5 && name === 'embedded aedes') continue // aedes 1.x speaks MQTT 3.1.1 only
        it(`request/response over MQTT ${version === 5 ? '5 (response topic, correlation data)' : '3.1.1'}`, async () => {
          const [host, plugin] = await pair(broker, 'p1', version)
          const client = new Peer(host)
          new Peer(plugin).handle('echo', (params) => (params as unknown[])[0])
          assert.equal(await client.call('echo', ['hi']), 'hi')
          const data = new Uint8Array(1000).fill(7)
          assert.deepEqual(await client.call('echo', [data]), data)
          await host.close()
          await plugin.close()
        })
      }

      it('broker loss: calls in flight fail fast, calls while down fail fast, calls work again after restart', async () => {
        const [host, plugin] = await pair(broker, 'p2')
        const client = new Peer(host, { name: 'p2' })
        const server = new Peer(plugin)
        server.handle('echo', (params) => (params as unknown[])[0])
        let sleeping = 0
        server.handle('sleep', (params) => (sleeping++, new Promise((r) => setTimeout(r, (params as number[])[0]))))
        assert.equal(await client.call('echo', [1]), 1)
        const inFlight = [client.call('sleep', [10_000]), client.call('sleep', [10_000]), client.call('sleep', [10_000])]
        for (const call of inFlight) call.catch(() => {})
        await until(() => sleeping === 3, 10_000, 'the three calls reached the plugin')
        await broker.stop()
        // Rejected with TRANSPORT_UNAVAILABLE: not answered by the 10 s handler (that would resolve).
        for (const call of inFlight) await rejectsWithCode(call, 'TRANSPORT_UNAVAILABLE')
        assert.equal(client.pendingCount, 0)
        await rejectsWithCode(client.call('echo', [2]), 'TRANSPORT_UNAVAILABLE')
        await broker.restart()
        const answer = await firstAnswer(() => client.call('echo', ['back'], { timeout: 2000 }), 15_000, 100)
        assert.equal(answer, 'back')
        assert.equal(client.pendingCount, 0)
        assert.ok(!host.closed && !plugin.closed)
        await host.close()
        await plugin.close()
      })
    })
  })
}

describe('embedded broker', () => {
  it('reports a plugin trying to publish or subscribe outside its own topics', async () => {
    const broker = await embedded()
    try {
      await rejectsWithCode(connectMqtt({ url: broker.url, pluginId: 'p2', side: 'plugin', username: 'p1', password: 'p1-secret' }), 'PERMISSION_DENIED')
      assert.ok(broker.inner.refusals.some((r) => r.what === 'subscribe' && r.topic === 'polyplug/p2/to-plugin'))
    } finally {
      await broker.stop()
    }
  })
})

after(async () => {
  await rm(join(tmpdir(), 'polyplug-mosq-none'), { force: true, recursive: true })
})
