/**
 * The plugin conformance suite over MQTT through a real Mosquitto broker, configured the way an
 * operator would: generated password and ACL files, the host pointed at it with POLYPLUG_MQTT_*.
 * (test/conformance.test.ts runs the same example through the embedded aedes broker.)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { readManifest } from '../src/manifest/load.js'
import { freePort, policyUsers, startMosquitto, writeMosquittoConfig, type RunningMosquitto } from './support/mosquitto.js'
import { examplesDir } from './support/paths.js'
import { describePluginConformance } from './support/plugin-suite.js'
import { requires, tools } from './support/requires.js'

const loaded = await readManifest(`${examplesDir}/js-process-mqtt`)
const id = loaded.manifest.id
const host = { username: 'polyplug-host', password: 'host-secret' }
const pluginPassword = 'plugin-secret'
let broker: RunningMosquitto | undefined
let dir: string | undefined

before(async () => {
  if (requires(tools.mosquitto)) return // the suite below reports the skip
  dir = await mkdtemp(join(tmpdir(), 'polyplug-mosq-'))
  const port = await freePort()
  const files = await writeMosquittoConfig(dir, { port, users: policyUsers(host, [{ id, password: pluginPassword }]) })
  broker = await startMosquitto(files.config, port)
  // This test file runs in a process of its own: the variables reach only this host.
  process.env.POLYPLUG_MQTT_URL = broker.url
  process.env.POLYPLUG_MQTT_HOST_USERNAME = host.username
  process.env.POLYPLUG_MQTT_HOST_PASSWORD = host.password
  process.env[`POLYPLUG_MQTT_PASSWORD_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = pluginPassword
})

after(async () => {
  await broker?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describePluginConformance(loaded, 'through a real Mosquitto broker', [tools.mosquitto])
