/**
 * `worker` + `shm`: the host and the worker share one SharedArrayBuffer region (docs/shm.md) and
 * wake each other with Atomics; MessagePack moves binary values without base64.
 */
import type { Channel } from '../../channels/channel.js'
import { msgpackCodec } from '../../rpc/msgpack.js'
import type { Codec } from '../../rpc/codec.js'
import type { WorkerLink } from '../../registry/types.js'
import { shmOptions } from './options.js'
import { atomicsDoorbell } from './atomics-doorbell.js'
import { shmChannel } from './channel.js'
import { initRegion, regionSize, type Role } from './layout.js'

/** Bytes per ring: a message up to 2 MiB crosses in one record; larger ones in fragments. */
export const WORKER_RING_CAPACITY = 4 << 20
/** How long the worker blocks in Atomics.wait for the next message before yielding to its event loop. */
export const WORKER_BLOCK_MS = 0.05

/** The encoding both ends of an shm channel use. */
export const shmCodec: Codec = msgpackCodec

export function createWorkerRegion(capacity = WORKER_RING_CAPACITY): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(regionSize(capacity))
  initRegion(buffer, capacity)
  return buffer
}

/** One side's channel; `spinMicros` > 0 is the opt-in low-latency mode (docs/shm.md), absent the default. */
export function workerShmChannel(buffer: SharedArrayBuffer, role: Role, spinMicros?: number): Channel {
  // Only the plugin's worker may block (briefly); the host's thread never does, except to poll
  // for a reply after a send. In low-latency mode the spin after each send does that job.
  const blockMs = role === 'plugin' && !spinMicros ? WORKER_BLOCK_MS : 0
  return shmChannel({ role, buffer, doorbell: atomicsDoorbell(buffer, role, { blockMs }), spinMicros })
}

/** `worker` placement over shm: the host makes the region, both ends map it; spinMicros from transportOptions. */
export const shmWorkerLink: WorkerLink = {
  prepare({ id, options }): WorkerShmData {
    const { spinMicros } = shmOptions(options, id)
    return { buffer: createWorkerRegion(), spinMicros }
  },
  host: (data) => workerShmChannel((data as WorkerShmData).buffer, 'host', (data as WorkerShmData).spinMicros),
  plugin(data, port) {
    // A pending Atomics.waitAsync does not keep a thread alive; the port listener does.
    port.on('message', () => {})
    return workerShmChannel((data as WorkerShmData).buffer, 'plugin', (data as WorkerShmData).spinMicros)
  },
  codec: shmCodec,
}

interface WorkerShmData {
  buffer: SharedArrayBuffer
  spinMicros: number | undefined
}
