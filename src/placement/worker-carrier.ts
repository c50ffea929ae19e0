/** Runs inside the worker thread: loads the plugin and serves it over parentPort (or a shared region). */
import { parentPort, workerData } from 'node:worker_threads'
import { loadPlugin } from '../kinds/registry.js'
import type { Manifest } from '../manifest/schema.js'
import { serveLoadError, servePlugin } from '../sdk/serve.js'
import { portChannel } from '../transports/port.js'
import { createWasmPump } from './wasm-pump.js'
import { shmCodec, workerShmChannel } from './worker-shm.js'

export interface CarrierData {
  id: string
  entryPath: string
  manifest: Manifest
  /** The shared region when the manifest asks for `transport: shm`. */
  shm?: SharedArrayBuffer | undefined
  /** shm low-latency mode, as the host parsed it from the manifest (src/transports/shm/options.ts). */
  spinMicros?: number
  /** For wasm plugins over `port`: the word the host bumps after each post, so a blocked guest can wait on it. */
  wake?: SharedArrayBuffer
}

if (parentPort) {
  const data = workerData as CarrierData
  const port = parentPort
  const pump = data.wake ? createWasmPump(port, new Int32Array(data.wake), data.id) : undefined
  const channel = data.shm ? workerShmChannel(data.shm, 'plugin', data.spinMicros) : portChannel(pump?.port ?? port)
  // A pending Atomics.waitAsync does not keep a thread alive; the port listener does.
  if (data.shm) port.on('message', () => {})
  const codec = data.shm ? shmCodec : undefined
  try {
    const definition = await loadPlugin({ id: data.id, entryPath: data.entryPath, manifest: data.manifest, ...(pump ? { wasmBridge: pump.bridge } : {}) })
    pump?.serve(definition)
    servePlugin(channel, definition, { id: data.id, codec, onShutdown: () => process.exit(0) })
  } catch (error) {
    serveLoadError(channel, data.id, error, codec)
  }
}
