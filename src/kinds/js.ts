/**
 * The `js` kind: an ES module whose default export is a `definePlugin(...)` value, in JavaScript
 * or TypeScript (ts-hooks.ts). Loading the same entry again (a reload or upgrade of an inline
 * plugin) gets fresh modules: see js-reload-hooks.ts.
 */
import { createRequire, register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import { isPluginDefinition, type PluginDefinition } from '../sdk/define.js'

/** How many times each entry was loaded in this thread. */
const generations = new Map<string, number>()
let hooksRegistered = false
let tsHooksRegistered = false

/** A `.ts`/`.mts` entry: TypeScript is transpiled on load (ts-hooks.ts), if the typescript package is installed. */
async function enableTypeScript(entryPath: string, id: string): Promise<void> {
  if (tsHooksRegistered || !/\.m?ts$/.test(entryPath)) return
  try {
    // Only whether it is there: the hooks load it, in their own thread.
    createRequire(import.meta.url).resolve('typescript')
  } catch (cause) {
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `${entryPath} is TypeScript: install the typescript package next to polyplug to load it (or point entry at compiled JavaScript)`, { plugin: id, cause })
  }
  register(new URL('./ts-hooks.js', import.meta.url))
  tsHooksRegistered = true
}

/** The URL to import: plain the first time, then with a new generation so nothing comes from the cache. */
function entryUrl(entryPath: string): string {
  const url = pathToFileURL(entryPath)
  const generation = generations.get(entryPath) ?? 0
  generations.set(entryPath, generation + 1)
  if (generation === 0) return url.href
  if (!hooksRegistered) {
    register(new URL('./js-reload-hooks.js', import.meta.url))
    hooksRegistered = true
  }
  url.searchParams.set('polyplug-gen', String(generation))
  return url.href
}

export async function loadJsPlugin(entryPath: string, id: string): Promise<PluginDefinition> {
  let module: { default?: unknown; plugin?: unknown }
  await enableTypeScript(entryPath, id)
  try {
    module = (await import(entryUrl(entryPath))) as typeof module
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
