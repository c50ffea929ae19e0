/**
 * `shm`: two rings in shared memory (docs/shm.md). In a worker the region is a SharedArrayBuffer;
 * between processes a /dev/shm file mapped by the polyplug_shm addon, with FIFO doorbells.
 */
import type { TransportModule } from '../../registry/types.js'

export const shmModule: TransportModule = {
  name: 'shm',
  description: 'worker/process: rings in shared memory',
  worker: {
    needs: ['shared-memory'],
    load: async () => (await import('./worker.js')).shmWorkerLink,
  },
  sidecar: {
    needs: ['shared-memory', 'addon'],
    host: async () => (await import('./sidecar.js')).shmTransport,
    plugin: async () => (await import('./sidecar.js')).shmPluginSide,
  },
}
