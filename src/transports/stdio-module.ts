/** `stdio`: the plugin process's stdin and stdout are the byte stream. */
import type { TransportModule } from '../registry/types.js'

export const stdioModule: TransportModule = {
  name: 'stdio',
  description: 'process: the child\'s stdin/stdout',
  defaultFor: ['process'],
  sidecar: {
    host: async () => (await import('./stdio.js')).stdioTransport,
    plugin: async () => (await import('./stdio.js')).stdioPluginSide,
  },
}
