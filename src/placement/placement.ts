/** A placement starts a plugin somewhere and hands back a Channel to it. */
import type { Channel } from '../channels/channel.js'
import type { LoadedManifest } from '../manifest/load.js'
import type { Codec } from '../rpc/codec.js'
import type { PolyplugError } from '../rpc/errors.js'

export interface LaunchSpec {
  id: string
  loaded: LoadedManifest
}

export interface Launched {
  /** The host's end of the channel to the plugin. */
  readonly channel: Channel
  /** True when the plugin can be stopped by force without harming the host (worker, process). */
  readonly isolated: boolean
  /** The encoding on a `bytes` channel when it is not JSON (e.g. MessagePack on shm). */
  readonly codec?: Codec
  /** Stops the plugin at once (terminate, kill); its channel closes with `reason` (clean if none). */
  kill(reason?: PolyplugError): Promise<void>
}

export type Launcher = (spec: LaunchSpec) => Promise<Launched>
