/**
 * Loads a plugin's code through its kind's module: inline placement and the worker and process
 * carriers all come here, so a kind registered once runs in every placement it supports. The
 * kind is looked up in the registry as it stands: the host and the process carrier register every
 * built-in (registry/index.ts), the worker carrier its plugin's own (registry/builtins.ts).
 */
import { kindModule } from '../registry/registry.js'
import type { LoadRequest } from '../registry/types.js'
import { PolyplugError } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import type { PluginDefinition } from '../sdk/define.js'

export type { LoadRequest }

export async function loadPlugin(request: LoadRequest): Promise<PluginDefinition> {
  const kind = kindModule(request.manifest.kind)
  if (!kind?.load) {
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `kind "${request.manifest.kind}" cannot be loaded in-process`, { plugin: request.id })
  }
  return (await kind.load())(request)
}
