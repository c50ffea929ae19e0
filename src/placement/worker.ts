/**
 * `worker`: the plugin runs in a worker thread started with the carrier script. A crash ends
 * only the worker; `kill` terminates it. The channel ends when the worker does. The transport's
 * worker link (its module's `worker` side) makes both ends of the channel; a kind that needs a
 * `sync-bridge` gets a wake word the host bumps on every post (its bridge waits on it).
 */
import { Worker } from 'node:worker_threads'
import { kindModule, kindNeeds, modulesToImport, transportModule, type PortLike } from '../registry/index.js'
import { PolyplugError } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { TransportErrorCodes } from '../errors/transport.js'
import { Reserved } from '../rpc/wire.js'
import type { Launched, LaunchSpec } from './placement.js'
import type { CarrierData } from './worker-carrier.js'

const carrier = new URL('./worker-carrier.js', import.meta.url)

export async function launchWorker(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath } = spec.loaded
  const side = transportModule(manifest.transport)?.worker
  if (!side) throw new PolyplugError(TransportErrorCodes.TRANSPORT_UNAVAILABLE, `transport "${manifest.transport}" cannot reach a worker`, { plugin: spec.id })
  const bridged = kindNeeds(manifest).includes('sync-bridge')
  if (bridged && !side.provides?.includes('sync-bridge')) {
    // Validation refuses this combination; a manifest built by hand still gets a clear error.
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `kind "${manifest.kind}" needs a sync-bridge that transport "${manifest.transport}" does not provide in a worker`, { plugin: spec.id })
  }
  const link = await side.load()
  const linkData = link.prepare({ id: spec.id, options: manifest.transportOptions })
  // Word 0 wakes a waiting guest; word 1 interrupts a computing one, for a kind that asks.
  const wake = bridged ? new Int32Array(new SharedArrayBuffer(8)) : undefined
  const interrupts = kindModule(manifest.kind)?.interrupt === true
  const data: CarrierData = { id: spec.id, entryPath, dir: spec.loaded.dir, manifest, link: linkData, modules: modulesToImport(manifest), ...(wake ? { wake: wake.buffer as SharedArrayBuffer } : {}) }
  const memoryMb = kindModule(manifest.kind)?.ownsMemoryLimit ? undefined : manifest.limits?.memoryMb
  const worker = new Worker(carrier, {
    workerData: data,
    ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}),
  })
  const channel = link.host(linkData, wake ? wakingPort(worker, wake, interrupts) : worker)
  let cause: PolyplugError | undefined
  worker.on('error', (error) => {
    cause ??= new PolyplugError(PluginErrorCodes.PLUGIN_CRASHED, `worker crashed: ${error.message}`, { plugin: spec.id, cause: error })
  })
  worker.on('exit', (code) => {
    // A worker that exits on its own before the host closed the channel has crashed, whatever its code.
    void channel.close(cause ?? new PolyplugError(PluginErrorCodes.PLUGIN_CRASHED, `worker exited with code ${code}`, { plugin: spec.id, data: { exitCode: code } }))
  })
  return {
    channel,
    isolated: true,
    ...(link.codec ? { codec: link.codec } : {}),
    async kill(reason) {
      await channel.close(reason)
      await worker.terminate()
    },
  }
}

/** The worker as a port whose every post also bumps and notifies `wake` (and a cancel sets the interrupt word). */
function wakingPort(worker: Worker, wake: Int32Array, interrupts: boolean): PortLike {
  return {
    // The bridge reads each post by itself while its guest blocks: a batch would hide a cancel from it.
    unbatched: true,
    postMessage(value) {
      if (interrupts && (value as { method?: unknown } | null)?.method === Reserved.cancel) Atomics.store(wake, 1, 2) // SIGINT
      worker.postMessage(value)
      Atomics.add(wake, 0, 1)
      Atomics.notify(wake, 0)
    },
    on: (event, listener) => worker.on(event, listener),
    off: (event, listener) => worker.off(event, listener),
  }
}
