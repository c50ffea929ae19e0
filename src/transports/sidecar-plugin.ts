/**
 * The plugin side of a byte-stream sidecar transport, as the Node process carrier speaks it: open
 * the channel the environment names (docs/protocol.md, "Environment"), then serve the plugin on
 * it. Each transport supplies its `connect`; kits in other languages implement the same few lines.
 */
import type { Channel } from '../channels/channel.js'
import type { PluginSide, PluginSideContext } from '../registry/types.js'
import { PolyplugError } from '../rpc/errors.js'
import { TransportErrorCodes } from '../errors/transport.js'

export type Env = Record<string, string | undefined>

/** The variable `name`, or TRANSPORT_UNAVAILABLE naming it. */
export function requireEnv(env: Env, name: string): string {
  const value = env[name]
  if (!value) throw new PolyplugError(TransportErrorCodes.TRANSPORT_UNAVAILABLE, `${name} is not set`)
  return value
}

/** A plugin side that opens one channel before the plugin loads and serves it; `opened` runs right after. */
export function channelPluginSide(connect: (context: PluginSideContext) => Promise<Channel>, opened?: () => void): PluginSide {
  return {
    async open(context) {
      const channel = await connect(context)
      opened?.()
      channel.onClose(context.exit)
      return async (serve) => serve(channel)
    },
  }
}
