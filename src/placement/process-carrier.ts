/**
 * The Node process carrier: `node process-carrier.js <entryPath> <manifest JSON>`. Loads a plugin
 * through its kind's module and serves it over the plugin side of the transport named in the
 * environment (docs/protocol.md). It exits when the host asks (`$/shutdown`), when its channel
 * ends, or when POLYPLUG_HOST_PID is gone — a plugin never outlives its host.
 */
import { DEFAULT_MAX_FRAME_BYTES, isFramingName } from '../framing/framing.js'
import type { Manifest } from '../manifest/schema.js'
import { registerBuiltinsFor } from '../registry/builtins.js'
import { importModules, kindModule, transportModule } from '../registry/registry.js'
import { jsonCodec } from '../rpc/codec.js'
import { PolyplugError } from '../rpc/errors.js'
import { TransportErrorCodes } from '../errors/transport.js'
import type { PluginDefinition } from '../sdk/define.js'
import { serveLoadError, servePlugin } from '../sdk/serve.js'
import { loadPlugin } from './load.js'

/** How often the carrier checks that its host still lives. */
const HOST_POLL_MS = 500

export function watchHost(pid: number, onGone: () => void): void {
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') onGone()
    }
  }, HOST_POLL_MS)
  timer.unref()
}

async function main(): Promise<void> {
  const [entryPath, manifestJson] = process.argv.slice(2)
  const env = process.env
  if (!entryPath || !manifestJson) throw new Error('usage: process-carrier <entryPath> <manifest JSON>')
  const hostPid = Number(env.POLYPLUG_HOST_PID)
  const exit = () => process.exit(0)
  if (hostPid > 0) watchHost(hostPid, exit)
  const manifest = JSON.parse(manifestJson) as Manifest
  const id = env.POLYPLUG_PLUGIN_ID ?? manifest.id
  const name = env.POLYPLUG_TRANSPORT ?? manifest.transport
  // Only this plugin's kind and transport among the built-ins (registry/builtins.ts), then the
  // modules the application registered them from.
  await registerBuiltinsFor({ kind: manifest.kind, transport: name })
  await importModules(env.POLYPLUG_MODULES ? (JSON.parse(env.POLYPLUG_MODULES) as string[]) : [])
  const side = transportModule(name)?.sidecar
  if (!side) throw new PolyplugError(TransportErrorCodes.TRANSPORT_UNAVAILABLE, `transport ${JSON.stringify(name)} is not one this carrier speaks`)
  const framing = env.POLYPLUG_FRAMING ?? 'length'
  if (!isFramingName(framing)) throw new PolyplugError(TransportErrorCodes.FRAME_INVALID, `unknown POLYPLUG_FRAMING ${JSON.stringify(framing)}`)
  const maxFrameBytes = Number(env.POLYPLUG_MAX_FRAME_BYTES) || DEFAULT_MAX_FRAME_BYTES
  const serveSessions = await (await side.plugin()).open({ id, env, framing, maxFrameBytes, manifest, exit })
  // MessagePack (msgpackr) and the worker relay load only for the plugins that use them: a carrier
  // starts with the modules its plugin needs.
  const codec = env.POLYPLUG_ENCODING === 'msgpack' ? (await import('../rpc/msgpack.js')).msgpackCodec : jsonCodec
  const kind = kindModule(manifest.kind)
  if (kind?.bridge && !kind.takesBridge) {
    // Its guest blocks on host calls: it runs in a worker of this process (carrier-relay.ts). A kind
    // that only takes a bridge where one is offered runs here without one.
    const { relayThroughWorker } = await import('./carrier-relay.js')
    await serveSessions((channel) => void relayThroughWorker(channel, { id, entryPath, manifest, codec, exit: (code) => process.exit(code) }))
    return
  }
  let definition: PluginDefinition | undefined
  let loadError: unknown
  try {
    definition = await loadPlugin({ id, entryPath, manifest })
  } catch (error) {
    loadError = error
  }
  await serveSessions((channel) => {
    if (definition) servePlugin(channel, definition, { id, codec, onShutdown: exit })
    else serveLoadError(channel, id, loadError, codec)
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`polyplug carrier: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
