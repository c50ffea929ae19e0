/** A placement starts a plugin somewhere and hands back a Channel to it. */
import type { Channel } from '../channels/channel.js'
import type { LoadedManifest } from '../manifest/load.js'
import type { Codec } from '../rpc/codec.js'
import type { PolyplugError } from '../rpc/errors.js'
import type { DirectInvoker } from '../sdk/direct.js'
import type { PoolView } from '../registry/types.js'
import type { MessageProtocol } from './protocol.js'
import type { SandboxOptions } from './sandbox.js'

export interface LaunchSpec {
  id: string
  loaded: LoadedManifest
  /** How long the plugin has to connect (process placement); default 10000 ms. */
  startTimeoutMs?: number
  /** Lines the plugin writes outside the channel (stderr), for the host log. */
  /** The application's choice for kernels that lack sandbox rules (process placement). */
  sandbox?: SandboxOptions
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void
}

export interface Launched {
  /** The host's end of the channel to the plugin. */
  readonly channel: Channel
  /** True when the plugin can be stopped by force without harming the host (worker, process). */
  readonly isolated: boolean
  /** Stops the plugin at once (terminate, kill); its channel closes with `reason` (clean if none). */
  kill(reason?: PolyplugError): Promise<void>
  /** The encoding both sides use from the first message (bytes channels); default JSON. */
  readonly codec?: Codec
  /** The secret the plugin must echo in its `$/hello` answer before the host serves it. */
  readonly token?: string
  /** The plugin's process id, where it has its own process. */
  readonly pid?: number
  /** Inline placement: method calls as plain function calls, skipping the channel (lifecycle still uses it). */
  readonly invoke?: DirectInvoker
  /** A pool of replicas (manifest `scale`): its replicas and failover counts, for host.stats(). */
  readonly pool?: () => PoolView
  /** What the plugin speaks on the channel; default polyplug's handshake protocol (protocol.ts). */
  readonly protocol?: MessageProtocol
}

export type Launcher = (spec: LaunchSpec) => Promise<Launched>
