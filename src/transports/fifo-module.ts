/** `fifo`: a pair of named pipes in a private directory. */
import type { TransportModule } from '../registry/types.js'

export const fifoModule: TransportModule = {
  name: 'fifo',
  description: 'process: two named pipes',
  sidecar: {
    host: async () => (await import('./fifo.js')).fifoTransport,
    plugin: async () => (await import('./fifo.js')).fifoPluginSide,
  },
}
