/**
 * The plugin side of `http` and `ws` in the Node process carrier: the plugin's own HTTP server
 * (transports/http-server.ts) on POLYPLUG_HTTP_HOST, announced on stdout as `POLYPLUG_LISTEN <url>`.
 * Both transports serve the same endpoints; only the host's call route differs.
 */
import type { PluginSide } from '../registry/types.js'
import { LISTEN_PREFIX } from './http-sidecar.js'
import { serveHttp } from './http-server.js'

export const httpPluginSide: PluginSide = {
  async open({ id, env, manifest }) {
    return async (serve) => {
      const maxBodyBytes = Number(env.POLYPLUG_MAX_BODY_BYTES)
      const server = await serveHttp({
        id,
        token: env.POLYPLUG_TOKEN ?? '',
        host: env.POLYPLUG_HTTP_HOST ?? '127.0.0.1',
        manifest,
        ...(maxBodyBytes > 0 ? { maxBodyBytes } : {}),
        onRefused: (r) => process.stderr.write(`refused ${r.method} ${r.url} from ${r.remote}: HTTP ${r.status}\n`),
        onSession: serve,
      })
      process.stdout.write(`${LISTEN_PREFIX}${server.url}\n`)
    }
  },
}
