/**
 * `mqtt` as a sidecar transport. With no broker configured the host starts one embedded aedes
 * broker on loopback (shared by all its plugins, started on first use) and gives each plugin
 * its own credentials, which allow only `polyplug/<id>/#`. The plugin learns where and who it is
 * from POLYPLUG_MQTT_URL, POLYPLUG_MQTT_USERNAME and POLYPLUG_MQTT_PASSWORD.
 *
 * An external broker (Mosquitto) is configured on the host with POLYPLUG_MQTT_URL plus
 * POLYPLUG_MQTT_HOST_USERNAME/PASSWORD and one POLYPLUG_MQTT_PASSWORD_<ID> per plugin (upper
 * case, `-` and `.` as `_`), matching a password file made with test/support/mosquitto.ts (or by hand).
 *
 * Start-up: the host subscribes before the process starts; the plugin subscribes, then publishes
 * `$/ready` so the host knows its `$/hello` will be heard.
 */
import { randomBytes } from 'node:crypto'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { pluginPrefix, startEmbeddedBroker, type EmbeddedBroker } from './mqtt-broker.js'
import { connectMqtt } from './mqtt.js'
import type { SidecarContext, SidecarEndpoint, SidecarTransport } from './sidecar.js'

const HOST_USER = 'polyplug-host'
let embedded: Promise<{ broker: EmbeddedBroker; hostPassword: string }> | undefined

/** The host's embedded broker, started on first use (and unref'd: it never keeps a host alive). */
export function embeddedBroker(): Promise<{ broker: EmbeddedBroker; hostPassword: string }> {
  embedded ??= startEmbeddedBroker({ unref: true }).then((broker) => ({ broker, hostPassword: broker.addUser(HOST_USER, 'polyplug/') }))
  return embedded
}

/** Stops the embedded broker if one was started (tests, host shutdown). */
export async function stopEmbeddedBroker(): Promise<void> {
  const running = embedded
  embedded = undefined
  if (running) await (await running).broker.close()
}

function envKey(id: string): string {
  return `POLYPLUG_MQTT_PASSWORD_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
}

async function brokerFor(id: string): Promise<{ url: string; host: { username: string; password: string }; plugin: { username: string; password: string } }> {
  const external = process.env.POLYPLUG_MQTT_URL
  if (external) {
    const password = process.env[envKey(id)]
    if (!password) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `${envKey(id)} is not set for the external broker`, { plugin: id })
    return {
      url: external,
      host: { username: process.env.POLYPLUG_MQTT_HOST_USERNAME ?? HOST_USER, password: process.env.POLYPLUG_MQTT_HOST_PASSWORD ?? '' },
      plugin: { username: id, password },
    }
  }
  const { broker, hostPassword } = await embeddedBroker()
  const password = broker.addUser(id, pluginPrefix(id), randomBytes(16).toString('hex'))
  return { url: broker.url, host: { username: HOST_USER, password: hostPassword }, plugin: { username: id, password } }
}

/** The broker's TCP port, for the plugin's sandbox (mqtt:// defaults to 1883, mqtts:// to 8883). */
function brokerPort(url: string): number {
  const parsed = new URL(url)
  return Number(parsed.port) || (parsed.protocol === 'mqtts:' ? 8883 : 1883)
}

export const mqttSidecarTransport: SidecarTransport = {
  name: 'mqtt',
  async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
    const where = await brokerFor(context.id)
    const channel = await connectMqtt({ url: where.url, pluginId: context.id, side: 'host', ...where.host })
    const ready = new Promise<void>((resolve) => {
      const off = channel.onMessage((message) => {
        if ((message as { method?: string }).method === '$/ready') {
          off()
          resolve()
        }
      })
    })
    return {
      env: { POLYPLUG_MQTT_URL: where.url, POLYPLUG_MQTT_USERNAME: where.plugin.username, POLYPLUG_MQTT_PASSWORD: where.plugin.password },
      usesStdio: false,
      network: { connect: [brokerPort(where.url)] },
      async connect(_child, signal) {
        await new Promise<void>((resolve, reject) => {
          if (signal.aborted) return reject(signal.reason)
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
          void ready.then(resolve)
        })
        return channel
      },
      dispose: () => channel.close(),
    }
  },
}
