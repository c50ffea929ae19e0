/**
 * `worker` + `shm`: the host and the worker share one SharedArrayBuffer region (docs/shm.md) and
 * wake each other with Atomics; MessagePack moves binary values without base64.
 */
import type { Channel } from '../channels/channel.js'
import { msgpackCodec } from '../rpc/msgpack.js'
import type { Codec } from '../rpc/codec.js'
import { atomicsDoorbell } from '../transports/shm/atomics-doorbell.js'
import { shmChannel } from '../transports/shm/channel.js'
import { initRegion, regionSize, type Role } from '../transports/shm/layout.js'

/** Bytes per ring: large enough for most messages in one record, small enough to map per plugin. */
export const WORKER_RING_CAPACITY = 1 << 20

/** The encoding both ends of an shm channel use. */
export const shmCodec: Codec = msgpackCodec

export function createWorkerRegion(capacity = WORKER_RING_CAPACITY): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(regionSize(capacity))
  initRegion(buffer, capacity)
  return buffer
}

export function workerShmChannel(buffer: SharedArrayBuffer, role: Role): Channel {
  return shmChannel({ role, buffer, doorbell: atomicsDoorbell(buffer, role) })
}
