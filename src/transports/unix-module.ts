/** `unix`: a Unix domain socket the host listens on. */
import type { TransportModule } from '../registry/types.js'

export const unixModule: TransportModule = {
  name: 'unix',
  description: 'process: a Unix domain socket',
  sidecar: {
    host: async () => (await import('./unix.js')).unixTransport,
    plugin: async () => (await import('./unix.js')).unixPluginSide,
  },
}
