/**
 * Extism's `http_request` for polyplug: the request JSON (`{"url", "method", "headers"}`) is
 * checked against the manifest's `permissions.network.connect` grants ("host:port", "host:*" or
 * "*") and, when granted, performed synchronously — the guest cannot wait asynchronously — by a
 * helper worker (synckit) whose event loop runs the fetch while the guest's thread blocks.
 */
import { createSyncFn } from 'synckit'
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

export interface HttpAsk {
  url: string
  method: string
  headers: Record<string, string>
  body?: Uint8Array
  timeoutMs: number
}

export interface HttpAnswer {
  status: number
  body: Uint8Array
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' }
let fetchSync: ((ask: HttpAsk) => HttpAnswer) | undefined

/** Whether `permissions.network.connect` lets the plugin reach `url`'s host and port. */
export function connectGranted(manifest: Manifest, url: URL): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port || DEFAULT_PORTS[url.protocol] || ''
  return (manifest.permissions?.network?.connect ?? []).some((grant) => {
    if (grant === '*') return true
    const at = grant.lastIndexOf(':')
    const [h, p] = at < 0 ? [grant, '*'] : [grant.slice(0, at), grant.slice(at + 1)]
    return h.replace(/^\[(.*)\]$/, '$1') === host && (p === '*' || p === port)
  })
}

/** Parses and checks the guest's request; throws PERMISSION_DENIED unless the manifest grants it. */
export function httpAsk(plugin: string, manifest: Manifest, requestJson: string, body: Uint8Array | undefined, timeoutMs: number): HttpAsk {
  let request: { url?: unknown; method?: unknown; headers?: unknown; header?: unknown }
  let url: URL
  try {
    request = JSON.parse(requestJson) as typeof request
    url = new URL(String(request.url))
  } catch (cause) {
    throw new PolyplugError('EXTISM_ERROR', `http_request: not a request ({"url", "method", "headers"}): ${(cause as Error).message}`, { plugin, cause })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `http_request to ${url.href}: only http and https are offered`, { plugin })
  }
  if (!connectGranted(manifest, url)) {
    const grant = `${url.hostname}:${url.port || DEFAULT_PORTS[url.protocol]}`
    throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `http_request to ${url.href} is not granted; add "${grant}" to permissions.network.connect in the plugin's manifest`, {
      plugin,
      data: { url: url.href, grant },
    })
  }
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : 'GET'
  const headers = (request.headers ?? request.header ?? {}) as Record<string, string>
  return { url: url.href, method, headers, ...(body && method !== 'GET' && method !== 'HEAD' ? { body } : {}), timeoutMs }
}

/** Performs the request, blocking this thread until the answer or `ask.timeoutMs`. */
export function httpFetch(plugin: string, ask: HttpAsk): HttpAnswer {
  fetchSync ??= createSyncFn<(ask: HttpAsk) => Promise<HttpAnswer>>(new URL('./extism-http-worker.js', import.meta.url).href)
  try {
    const answer = fetchSync(ask)
    return { status: answer.status, body: new Uint8Array(answer.body) }
  } catch (cause) {
    throw new PolyplugError('EXTISM_ERROR', `http_request to ${ask.url} failed: ${(cause as Error).message}`, { plugin, cause })
  }
}
