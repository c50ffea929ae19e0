/** `tcp`: a loopback socket the host listens on (process), or a plugin's own address (remote `tcp://`). */
import type { TransportModule } from '../registry/types.js'

export const tcpModule: TransportModule = {
  name: 'tcp',
  description: 'process: a loopback TCP socket; remote: tcp://host:port',
  defaultFor: ['remote'],
  sidecar: {
    host: async () => (await import('./tcp.js')).tcpTransport,
    plugin: async () => (await import('./tcp.js')).tcpPluginSide,
  },
  remote: {
    schemes: ['tcp'],
    dial: async () => (await import('./tcp.js')).dialTcp,
  },
}
