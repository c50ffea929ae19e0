/** `inline`: the plugin runs on the host's thread, over an in-memory `direct` channel. Not isolated. */
import { createMemoryPair } from '../channels/memory.js'
import { loadPlugin } from '../kinds/registry.js'
import { servePlugin } from '../sdk/serve.js'
import type { Launched, LaunchSpec } from './placement.js'

export async function launchInline(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath } = spec.loaded
  const definition = await loadPlugin({ id: spec.id, entryPath, manifest })
  const [hostSide, pluginSide] = createMemoryPair()
  servePlugin(pluginSide, definition, { id: spec.id })
  return {
    channel: hostSide,
    isolated: false,
    kill: (reason) => hostSide.close(reason),
  }
}
