/**
 * `inline`: the plugin runs on the host's thread. Its lifecycle and its calls to the host go over an
 * in-memory channel; the host's calls to its methods are direct function calls. Not isolated.
 */
import { createMemoryPair } from '../channels/memory.js'
import { loadPlugin } from './load.js'
import { createDirectInvoker, type DirectInvoker } from '../sdk/direct.js'
import { servePlugin } from '../sdk/serve.js'
import type { Launched, LaunchSpec } from './placement.js'

export async function launchInline(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath } = spec.loaded
  const definition = await loadPlugin({ id: spec.id, entryPath, manifest, dir: spec.loaded.dir })
  const [hostSide, pluginSide] = createMemoryPair()
  let invoke: DirectInvoker | undefined
  servePlugin(pluginSide, definition, { id: spec.id, exposeDirect: (methods, context) => (invoke = createDirectInvoker(methods, context)) })
  return {
    channel: hostSide,
    invoke,
    isolated: false,
    kill: (reason) => hostSide.close(reason),
  }
}
