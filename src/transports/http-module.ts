/**
 * `http` and `ws`: the plugin's own HTTP server. `http` sends calls by POST, `ws` over the
 * WebSocket; both use the WebSocket for everything else. A remote http(s):// or ws(s):// server
 * speaks both: the scheme's own is the default.
 */
import type { TransportModule } from '../registry/types.js'

const plugin = async () => (await import('./http-plugin.js')).httpPluginSide

export const httpModule: TransportModule = {
  name: 'http',
  description: 'process/remote: the plugin\'s HTTP server, calls by POST',
  sidecar: { host: async () => (await import('./http-sidecar.js')).httpSidecarTransport('post'), plugin },
  remote: { schemes: ['http', 'https'], alsoSchemes: ['ws', 'wss'], dial: async () => (await import('./http.js')).httpDialer('post') },
}

export const wsModule: TransportModule = {
  name: 'ws',
  description: 'process/remote: the plugin\'s HTTP server, calls over the WebSocket',
  sidecar: { host: async () => (await import('./http-sidecar.js')).httpSidecarTransport('ws'), plugin },
  remote: { schemes: ['ws', 'wss'], alsoSchemes: ['http', 'https'], dial: async () => (await import('./http.js')).httpDialer('ws') },
}
