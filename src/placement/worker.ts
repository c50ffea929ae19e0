/**
 * `worker`: the plugin runs in a worker thread started with the carrier script. A crash ends
 * only the worker; `kill` terminates it. The channel ends when the worker does.
 */
import { Worker } from 'node:worker_threads'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import { portChannel, type PortLike } from '../transports/port.js'
import type { Launched, LaunchSpec } from './placement.js'
import type { CarrierData } from './worker-carrier.js'
import { shmOptions } from '../transports/shm/options.js'
import { createWorkerRegion, shmCodec, workerShmChannel } from './worker-shm.js'

const carrier = new URL('./worker-carrier.js', import.meta.url)

export async function launchWorker(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath } = spec.loaded
  const shm = manifest.transport === 'shm' ? createWorkerRegion() : undefined
  const { spinMicros } = shm ? shmOptions(manifest.transportOptions, spec.id) : { spinMicros: 0 }
  // A wasm guest may block its worker in Atomics.wait (placement/wasm-pump.ts): wake it on every post.
  const wake = manifest.kind === 'wasm' && !shm ? new Int32Array(new SharedArrayBuffer(4)) : undefined
  const data: CarrierData = { id: spec.id, entryPath, manifest, shm, spinMicros, ...(wake ? { wake: wake.buffer as SharedArrayBuffer } : {}) }
  const memoryMb = manifest.limits?.memoryMb
  const worker = new Worker(carrier, {
    workerData: data,
    ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}),
  })
  const channel = shm ? workerShmChannel(shm, 'host', spinMicros) : portChannel(wake ? wakingPort(worker, wake) : worker)
  let cause: PolyplugError | undefined
  worker.on('error', (error) => {
    cause ??= new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `worker crashed: ${error.message}`, { plugin: spec.id, cause: error })
  })
  worker.on('exit', (code) => {
    // A worker that exits on its own before the host closed the channel has crashed, whatever its code.
    void channel.close(cause ?? new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `worker exited with code ${code}`, { plugin: spec.id, data: { exitCode: code } }))
  })
  return {
    channel,
    isolated: true,
    ...(shm ? { codec: shmCodec } : {}),
    async kill(reason) {
      await channel.close(reason)
      await worker.terminate()
    },
  }
}

/** The worker as a port whose every post also bumps and notifies `wake`. */
function wakingPort(worker: Worker, wake: Int32Array): PortLike {
  return {
    postMessage(value) {
      worker.postMessage(value)
      Atomics.add(wake, 0, 1)
      Atomics.notify(wake, 0)
    },
    on: (event, listener) => worker.on(event, listener),
    off: (event, listener) => worker.off(event, listener),
  }
}
