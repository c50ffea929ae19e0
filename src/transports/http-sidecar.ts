/**
 * `http` as a sidecar transport. The plugin binds its own HTTP server on 127.0.0.1:0 (it alone
 * knows the port it got) and announces it with one line on stdout, `POLYPLUG_LISTEN <url>`; the
 * host then opens the WebSocket session with the launch token (POLYPLUG_TOKEN, which the plugin
 * requires on every request). POLYPLUG_HTTP_CALLS=ws|post tells the host's side how calls go.
 */
import { createInterface } from 'node:readline'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { connectHttp } from './http.js'
import type { ChildStreams, SidecarContext, SidecarEndpoint, SidecarTransport } from './sidecar.js'

export const LISTEN_PREFIX = 'POLYPLUG_LISTEN '

/** Resolves with the URL the plugin announces on stdout. */
export function awaitListenLine(child: ChildStreams, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'the plugin has no stdout to announce its address on'))
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity })
    const finish = () => {
      lines.off('line', onLine)
      signal.removeEventListener('abort', onAbort)
    }
    const onLine = (line: string) => {
      if (!line.startsWith(LISTEN_PREFIX)) return
      finish()
      resolve(line.slice(LISTEN_PREFIX.length).trim())
    }
    const onAbort = () => {
      finish()
      reject(signal.reason)
    }
    if (signal.aborted) return onAbort()
    lines.on('line', onLine)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * `http`: calls by POST, the WebSocket for everything else (notifications, the plugin's host
 * calls, progress, cancellation). `ws`: the same plugin server, every call over the WebSocket.
 */
export function httpSidecarTransport(calls: 'ws' | 'post'): SidecarTransport {
  return {
    name: calls === 'ws' ? 'ws' : 'http',
    async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
      const token = context.token
      if (!token) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'the http transport needs a launch token')
      return {
        env: { POLYPLUG_HTTP_HOST: '127.0.0.1', POLYPLUG_HTTP_CALLS: calls, POLYPLUG_MAX_BODY_BYTES: String(context.maxFrameBytes) },
        usesStdio: false,
        // The plugin serves on a port the kernel picks and announces it; the host connects.
        network: { bind: [0] },
        async connect(child, signal) {
          const url = await awaitListenLine(child, signal)
          return connectHttp({ url, token, calls, maxBodyBytes: context.maxFrameBytes })
        },
        dispose: async () => {},
      }
    },
  }
}
