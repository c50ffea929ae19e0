/** `inline`: the plugin runs on the host's thread, over an in-memory `direct` channel. Not isolated. */
import { createMemoryPair } from '../channels/memory.js'
import { loadJsPlugin } from '../kinds/js.js'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import { servePlugin } from '../sdk/serve.js'
import type { Launched, LaunchSpec } from './placement.js'

export async function launchInline(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath } = spec.loaded
  if (manifest.kind !== 'js') {
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `kind "${manifest.kind}" cannot run inline yet`, { plugin: spec.id })
  }
  const definition = await loadJsPlugin(entryPath, spec.id)
  const [hostSide, pluginSide] = createMemoryPair()
  servePlugin(pluginSide, definition, { id: spec.id })
  return {
    channel: hostSide,
    isolated: false,
    kill: (reason) => hostSide.close(reason),
  }
}
