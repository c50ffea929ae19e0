/** `port`: a worker's MessagePort; structured clones, no codec. Its posts can wake a bridged plugin. */
import type { TransportModule } from '../registry/types.js'

export const portModule: TransportModule = {
  name: 'port',
  description: 'worker: the worker\'s MessagePort (structured clone)',
  defaultFor: ['worker'],
  worker: {
    provides: ['sync-bridge'],
    load: async () => (await import('./port.js')).portWorkerLink,
  },
}
