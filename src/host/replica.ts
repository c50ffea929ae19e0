/**
 * `polyplug serve`: the plugin in this process as one replica of its pool (docs/scale-out.md).
 * The plugin is loaded and activated once, served over an in-memory channel; the transport's
 * `replica` side (registry) joins the broker and hands each call to `run`.
 */
import { createMemoryPair } from '../channels/memory.js'
import type { LoadedManifest } from '../manifest/load.js'
import { loadPlugin } from '../placement/load.js'
import { transportModule } from '../registry/index.js'
import type { RunningReplica } from '../registry/types.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { Peer } from '../rpc/peer.js'
import { Reserved } from '../rpc/wire.js'
import { PROTOCOL_VERSION } from '../sdk/protocol.js'
import { servePlugin } from '../sdk/serve.js'
import { HOST_VERSION } from './host-api.js'

export interface ServeReplicaOptions {
  loaded: LoadedManifest
  broker: string
  username?: string
  password?: string
  ca?: Buffer
  replica?: string
}

export async function serveReplica(options: ServeReplicaOptions): Promise<RunningReplica> {
  const { manifest, entryPath } = options.loaded
  const id = manifest.id
  const join = await transportModule(manifest.transport)?.remote?.replica?.()
  if (!join || !manifest.scale) {
    throw new PolyplugError(ErrorCodes.MANIFEST_INVALID, `plugin "${id}" cannot serve as a replica: its manifest needs placement "remote", a \`scale\` block and a transport with replica pools (docs/scale-out.md)`, { plugin: id })
  }
  const definition = await loadPlugin({ id, entryPath, manifest })
  const [hostEnd, pluginEnd] = createMemoryPair()
  servePlugin(pluginEnd, definition, { id, token: '' })
  const peer = new Peer(hostEnd, { name: id })
  await peer.call(Reserved.hello, { protocol: [PROTOCOL_VERSION], plugin: id, host: { name: 'polyplug-replica', version: HOST_VERSION, pid: process.pid }, encodings: ['json'] })
  await peer.call(Reserved.activate, { config: {}, reason: 'replica', logLevel: 'info' })
  const member = await join({
    id,
    broker: options.broker,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(manifest.scale.group ? { group: manifest.scale.group } : {}),
    ...(options.replica ? { replica: options.replica } : {}),
    run: (method, params) => peer.call(method, params as unknown[] | Record<string, unknown> | undefined),
  })
  return {
    replica: member.replica,
    async close() {
      await member.close()
      await peer.call(Reserved.shutdown, {}, { timeout: 5000 }).catch(() => {})
      await peer.close()
    },
  }
}
