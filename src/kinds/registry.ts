/**
 * How each kind's code becomes a PluginDefinition that `servePlugin` can serve. Inline placement
 * and the worker (and process) carriers all load plugins through here, so a kind added once runs
 * in every placement that can host it. `exec` has no loader: it is its own process.
 */
import type { Manifest } from '../manifest/schema.js'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import type { PluginDefinition } from '../sdk/define.js'
import { loadJsPlugin } from './js.js'
import { loadExtismPlugin } from './wasm-extism.js'
import { loadWasmPlugin, type WasmBridge } from './wasm.js'

export interface LoadRequest {
  id: string
  entryPath: string
  manifest: Manifest
  /** Lent by a worker or process carrier: lets a wasm plugin's synchronous imports wait there. */
  wasmBridge?: WasmBridge
}

export type KindLoader = (request: LoadRequest) => Promise<PluginDefinition>

const loaders: Partial<Record<Manifest['kind'], KindLoader>> = {
  js: ({ entryPath, id }) => loadJsPlugin(entryPath, id),
  // Imported on first use: hosts without native plugins never load koffi.
  native: async ({ entryPath, id }) => (await import('./native.js')).loadNativePlugin(entryPath, id),
  wasm: ({ wasmBridge, ...request }) =>
    request.manifest.wasm?.abi === 'extism' ? loadExtismPlugin(request) : loadWasmPlugin({ ...request, bridge: wasmBridge }),
}

export function loadPlugin(request: LoadRequest): Promise<PluginDefinition> {
  const loader = loaders[request.manifest.kind]
  if (!loader) {
    return Promise.reject(
      new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `kind "${request.manifest.kind}" cannot be loaded in-process`, { plugin: request.id }),
    )
  }
  return loader(request)
}
