/**
 * `worker`: the plugin runs in a worker thread started with the carrier script. A crash ends
 * only the worker; `kill` terminates it. The channel ends when the worker does. The transport's
 * worker link (its module's `worker` side) makes both ends of the channel; a kind that needs a
 * `sync-bridge` (or takes one where offered) gets a wake word the host bumps on every post (its
 * bridge waits on it), and a kind whose calls block the worker's thread gets cancel slots the host
 * raises itself (kinds/cancel-slots.ts).
 */
import { Worker } from 'node:worker_threads'
// The registry itself, not ./index.js with every built-in: the host has registered those already,
// and the process carrier's relay (carrier-relay.ts) registers the ones its worker uses.
import { kindModule, kindNeeds, modulesToImport, transportModule } from '../registry/registry.js'
import type { PortLike } from '../registry/types.js'
import { PolyplugError } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { TransportErrorCodes } from '../errors/transport.js'
import { isCancel, Reserved } from '../rpc/wire.js'
import { eachCall } from '../rpc/port-envelope.js'
import type { Launched, LaunchSpec } from './placement.js'
import type { CarrierData } from './worker-carrier.js'
import { CANCEL_SLOTS_BYTES, CANCEL_SLOTS_OFFSET, CancelSlots } from '../kinds/cancel-slots.js'
import { carrierFile } from './carrier-file.js'

export async function launchWorker(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath } = spec.loaded
  const side = transportModule(manifest.transport)?.worker
  if (!side) throw new PolyplugError(TransportErrorCodes.TRANSPORT_UNAVAILABLE, `transport "${manifest.transport}" cannot reach a worker`, { plugin: spec.id })
  const kind = kindModule(manifest.kind)
  const bridged = kindNeeds(manifest).includes('sync-bridge') || (kind?.takesBridge === true && side.provides?.includes('sync-bridge') === true)
  if (bridged && !side.provides?.includes('sync-bridge')) {
    // Validation refuses this combination; a manifest built by hand still gets a clear error.
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `kind "${manifest.kind}" needs a sync-bridge that transport "${manifest.transport}" does not provide in a worker`, { plugin: spec.id })
  }
  const link = await side.load()
  const linkData = link.prepare({ id: spec.id, options: manifest.transportOptions })
  // Word 0 wakes a waiting guest; word 1 interrupts a computing one, for a kind that asks; the cancel slots follow.
  const slotted = bridged && kind?.blocksWorker === true
  const wake = bridged ? new Int32Array(new SharedArrayBuffer(slotted ? CANCEL_SLOTS_OFFSET + CANCEL_SLOTS_BYTES : 8)) : undefined
  const slots = wake && slotted ? new CancelSlots(wake.buffer as SharedArrayBuffer) : undefined
  const interrupts = kind?.interrupt === true
  const data: CarrierData = { id: spec.id, entryPath, dir: spec.loaded.dir, manifest, link: linkData, modules: modulesToImport(manifest), ...(wake ? { wake: wake.buffer as SharedArrayBuffer } : {}) }
  const memoryMb = kind?.ownsMemoryLimit ? undefined : manifest.limits?.memoryMb
  const worker = new Worker(carrierFile('worker-carrier', { importsSdk: kind?.importsSdk === true }), {
    workerData: data,
    ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}),
  })
  const channel = link.host(linkData, wake ? wakingPort(worker, wake, interrupts, slots) : worker)
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
      slots?.raiseAll() // a call blocking the worker's thread returns once it sees its flag; terminate cannot stop it
      await channel.close(reason)
      await worker.terminate()
    },
  }
}

/**
 * The worker as a port whose every post also bumps and notifies `wake`; a cancel sets the interrupt
 * word and raises the call's cancel slot, a shutdown raises every slot. Its channel batches whole
 * ticks (`wholeTicks`): the bridge reads a batch message by message, also while its guest blocks
 * (kinds/wasm-pump.ts), and the guest is woken once per tick, not once per message.
 */
function wakingPort(worker: Worker, wake: Int32Array, interrupts: boolean, slots: CancelSlots | undefined): PortLike {
  const notice = (method: string, params: unknown) => {
    if (isCancel(method)) {
      if (interrupts) Atomics.store(wake, 1, 2) // SIGINT
      const id = (params as { id?: unknown } | undefined)?.id
      if (slots && (typeof id === 'number' || typeof id === 'string')) slots.raise(id)
    } else if (method === Reserved.shutdown) slots?.raiseAll()
  }
  return {
    wholeTicks: true,
    postMessage(value) {
      eachCall(value, notice)
      worker.postMessage(value)
      Atomics.add(wake, 0, 1)
      Atomics.notify(wake, 0)
    },
    on: (event, listener) => worker.on(event, listener),
    off: (event, listener) => worker.off(event, listener),
  }
}
