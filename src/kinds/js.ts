/**
 * The `js` kind: an ES module whose default export is a `definePlugin(...)` value, in JavaScript
 * or TypeScript (ts-hooks.ts). Loading the same entry again (a reload or upgrade of an inline
 * plugin) gets fresh modules: see js-reload-hooks.ts.
 */
import { createRequire, register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { PolyplugError } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { isPluginDefinition, type PluginDefinition } from '../sdk/define.js'
import { findsHostSdk, SHARE_SDK_ENV } from './sdk-share.js'

/**
 * The typescript versions with the `transpileModule` API that ts-hooks.ts uses; package.json's
 * peerDependencies says the same (test/typescript-versions.test.ts runs the range's ends).
 * TypeScript 7 (the native compiler) has no JavaScript API.
 */
export const TYPESCRIPT_RANGE = '>=5.0.0 <7'

/** How many times each entry was loaded in this thread. */
const generations = new Map<string, number>()
let hooksRegistered = false
let tsHooksRegistered = false
let sdkHooksRegistered = false

function shareSdk(entryPath: string): void {
  const decided = process.env[SHARE_SDK_ENV]
  if (sdkHooksRegistered || (decided === undefined ? findsHostSdk(entryPath) : decided !== '1')) return
  register(new URL('./sdk-hooks.js', import.meta.url))
  sdkHooksRegistered = true
}

/** A `.ts`/`.mts` entry: TypeScript is transpiled on load (ts-hooks.ts), if the typescript package is installed. */
async function enableTypeScript(entryPath: string, id: string): Promise<void> {
  if (tsHooksRegistered || !/\.m?ts$/.test(entryPath)) return
  try {
    // Only whether it is there: the hooks load it, in their own thread.
    createRequire(import.meta.url).resolve('typescript')
  } catch (cause) {
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `${entryPath} is TypeScript: install the typescript package next to polyplug to load it (or point entry at compiled JavaScript)`, { plugin: id, cause })
  }
  // Loaded here, for TypeScript entries only: semver alone is ~125 CommonJS modules, which a
  // JavaScript plugin's first call should not wait for.
  const { typescriptVersion } = await import('./ts-cache.js')
  const semver = createRequire(import.meta.url)('semver') as typeof import('semver')
  const version = typescriptVersion()
  if (!semver.satisfies(version, TYPESCRIPT_RANGE)) {
    throw new PolyplugError(
      PluginErrorCodes.PLUGIN_UNAVAILABLE,
      `${entryPath} is TypeScript, and the typescript package found is ${version}, which has no transpileModule API (polyplug supports typescript ${TYPESCRIPT_RANGE}): run \`npm install typescript@5\` (or typescript@6)`,
      { plugin: id, data: { typescript: version, supported: TYPESCRIPT_RANGE } },
    )
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
  shareSdk(entryPath)
  try {
    module = (await import(entryUrl(entryPath))) as typeof module
  } catch (cause) {
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `cannot load ${entryPath}: ${(cause as Error).message}`, { plugin: id, cause })
  }
  const definition = module.default ?? module.plugin
  if (!isPluginDefinition(definition)) {
    throw new PolyplugError(
      PluginErrorCodes.PLUGIN_UNAVAILABLE,
      `${entryPath} must export a plugin as its default export: export default definePlugin({ methods: {...} })`,
      { plugin: id },
    )
  }
  return definition
}
