/**
 * Serves a plugin over the `http` transport: every WebSocket session (and the socket-less POST
 * session) gets its own Peer running the same definition. See transports/http-server.ts.
 */
import { serveHttp, type HttpPluginServer, type HttpServeOptions } from '../transports/http-server.js'
import type { PluginDefinition } from './define.js'
import { servePlugin, type ServeOptions } from './serve.js'

export interface ServeHttpOptions extends Omit<HttpServeOptions, 'onSession'> {
  id: string
  /** Called after a session's `$/shutdown` was answered; process carriers exit here. */
  onShutdown?: ServeOptions['onShutdown']
}

export function serveHttpPlugin(definition: PluginDefinition, options: ServeHttpOptions): Promise<HttpPluginServer> {
  const { onShutdown, ...http } = options
  return serveHttp({
    ...http,
    onSession(channel) {
      servePlugin(channel, definition, { id: options.id, ...(onShutdown ? { onShutdown } : {}) })
    },
  })
}
