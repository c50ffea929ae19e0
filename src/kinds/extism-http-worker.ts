/**
 * The worker behind Extism's synchronous `http_request` (src/kinds/extism-http.ts): runs one
 * fetch on its own event loop while the guest's thread waits (synckit).
 */
import { runAsWorker } from 'synckit'
import type { HttpAnswer, HttpAsk } from './extism-http.js'

runAsWorker(async (ask: HttpAsk): Promise<HttpAnswer> => {
  const response = await fetch(ask.url, {
    method: ask.method,
    headers: ask.headers,
    ...(ask.body ? { body: ask.body } : {}),
    signal: AbortSignal.timeout(ask.timeoutMs),
  })
  return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) }
})
