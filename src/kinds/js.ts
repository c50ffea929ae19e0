/** The `js` kind: an ES module whose default export is a `definePlugin(...)` value. */
import { pathToFileURL } from 'node:url'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import { isPluginDefinition, type PluginDefinition } from '../sdk/define.js'

export async function loadJsPlugin(entryPath: string, id: string): Promise<PluginDefinition> {
  let module: { default?: unknown; plugin?: unknown }
  try {
    module = (await import(pathToFileURL(entryPath).href)) as typeof module
  } catch (cause) {
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot load ${entryPath}: ${(cause as Error).message}`, { plugin: id, cause })
  }
  const definition = module.default ?? module.plugin
  if (!isPluginDefinition(definition)) {
    throw new PolyplugError(
      ErrorCodes.PLUGIN_UNAVAILABLE,
      `${entryPath} must export a plugin as its default export: export default definePlugin({ methods: {...} })`,
      { plugin: id },
    )
  }
  return definition
}
