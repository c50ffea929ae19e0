/**
 * The networked half of the Node process carrier: serves a loaded plugin over `http` (its own
 * HTTP server, announced on stdout as `POLYPLUG_LISTEN <url>`) or `mqtt` (through the broker
 * named in POLYPLUG_MQTT_URL). Byte-stream transports stay in process-carrier.ts.
 */
import { loadPlugin } from '../kinds/registry.js'
import type { Manifest } from '../manifest/schema.js'
import type { PluginDefinition } from '../sdk/define.js'
import { serveLoadError, servePlugin } from '../sdk/serve.js'
import { serveHttpPlugin } from '../sdk/serve-http.js'
import { LISTEN_PREFIX } from '../transports/http-sidecar.js'
import { serveHttp } from '../transports/http-server.js'
import { connectMqtt } from '../transports/mqtt.js'

type Env = Record<string, string | undefined>

/** True when this carrier serves `env.POLYPLUG_TRANSPORT` here. */
export function isNetworked(env: Env): boolean {
  return env.POLYPLUG_TRANSPORT === 'http' || env.POLYPLUG_TRANSPORT === 'ws' || env.POLYPLUG_TRANSPORT === 'mqtt'
}

export async function serveNetworked(entryPath: string, manifest: Manifest, env: Env): Promise<void> {
  const id = env.POLYPLUG_PLUGIN_ID ?? manifest.id
  const token = env.POLYPLUG_TOKEN ?? ''
  let definition: PluginDefinition | undefined
  let loadError: unknown
  try {
    definition = await loadPlugin({ id, entryPath, manifest })
  } catch (error) {
    loadError = error
  }
  const exit = () => process.exit(0)
  // `http` and `ws` plugins serve the same HTTP + WebSocket endpoints; only the host's call route differs.
  if (env.POLYPLUG_TRANSPORT === 'http' || env.POLYPLUG_TRANSPORT === 'ws') {
    const common = {
      id,
      token,
      host: env.POLYPLUG_HTTP_HOST ?? '127.0.0.1',
      manifest,
      ...(Number(env.POLYPLUG_MAX_BODY_BYTES) > 0 ? { maxBodyBytes: Number(env.POLYPLUG_MAX_BODY_BYTES) } : {}),
      onRefused: (r: { method: string; url: string; status: number; remote: string | undefined }) =>
        process.stderr.write(`refused ${r.method} ${r.url} from ${r.remote}: HTTP ${r.status}\n`),
    }
    const server = definition
      ? await serveHttpPlugin(definition, { ...common, onShutdown: exit })
      : await serveHttp({ ...common, onSession: (channel) => serveLoadError(channel, id, loadError) })
    process.stdout.write(`${LISTEN_PREFIX}${server.url}\n`)
    return
  }
  const channel = await connectMqtt({
    url: env.POLYPLUG_MQTT_URL ?? '',
    pluginId: id,
    side: 'plugin',
    ...(env.POLYPLUG_MQTT_USERNAME ? { username: env.POLYPLUG_MQTT_USERNAME } : {}),
    ...(env.POLYPLUG_MQTT_PASSWORD ? { password: env.POLYPLUG_MQTT_PASSWORD } : {}),
  })
  channel.onClose(exit)
  if (definition) servePlugin(channel, definition, { id, onShutdown: exit })
  else serveLoadError(channel, id, loadError)
  await channel.send({ jsonrpc: '2.0', method: '$/ready' })
}
