/** Runs inside the worker thread: loads the plugin and serves it over the transport's worker link. */
import { parentPort, workerData } from 'node:worker_threads'
import type { Manifest } from '../manifest/schema.js'
import { registerBuiltinsFor } from '../registry/builtins.js'
import { importModules, kindModule, transportModule } from '../registry/registry.js'
import { serveLoadError, servePlugin } from '../sdk/serve.js'
import { loadPlugin } from './load.js'

export interface CarrierData {
  id: string
  entryPath: string
  /** The plugin folder. */
  dir?: string
  manifest: Manifest
  /** What the transport's worker link prepared on the host (a shared region, options). */
  link: unknown
  /** Modules that register the plugin's transport and kind, when the application brought them. */
  modules: string[]
  /** For kinds that need a sync-bridge: the word the host bumps after each post, so a blocked guest can wait on it. */
  wake?: SharedArrayBuffer
}

if (parentPort) {
  const data = workerData as CarrierData
  const port = parentPort
  // Only this plugin's kind and transport: a worker serves one plugin, and every other built-in
  // module would be loaded and compiled again in each worker's own isolate.
  await registerBuiltinsFor(data.manifest)
  await importModules(data.modules)
  const link = await transportModule(data.manifest.transport)?.worker?.load()
  const makeBridge = data.wake ? await kindModule(data.manifest.kind)?.bridge?.() : undefined
  const bridge = data.wake && makeBridge ? makeBridge(port, new Int32Array(data.wake), data.id) : undefined
  if (!link) throw new Error(`transport "${data.manifest.transport}" has no worker link in this thread`)
  const channel = link.plugin(data.link, bridge?.port ?? port)
  const codec = link.codec
  try {
    const definition = await loadPlugin({ id: data.id, entryPath: data.entryPath, dir: data.dir, manifest: data.manifest, ...(bridge ? { bridge: bridge.bridge } : {}) })
    bridge?.serve(definition)
    // The worker's own heap: process.memoryUsage() reads the calling isolate's heap (the same figure
    // as node:v8's used_heap_size), without loading node:v8 and its five internal modules here.
    servePlugin(channel, definition, { id: data.id, codec, onShutdown: () => process.exit(0), usage: () => ({ heapBytes: process.memoryUsage().heapUsed }) })
  } catch (error) {
    serveLoadError(channel, data.id, error, codec)
  }
}
