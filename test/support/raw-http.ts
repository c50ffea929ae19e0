import assert from 'node:assert/strict'
import { request } from 'node:http'
import { postRpc } from '../../src/transports/http.js'

export interface RawResponse {
  status: number
  body: string
}

/** One plain HTTP request, below polyplug's client: for checking what a plugin's server answers. */
export function raw(url: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${options.path}`, { method: options.method, headers: options.headers ?? {} }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** POSTs a batch of a request, a notification and an unknown method: two answers come back, in any order. */
export async function assertBatchAnswered(url: string, token: string): Promise<void> {
  const batch = JSON.parse(
    await postRpc(url, JSON.stringify([
      { jsonrpc: '2.0', id: 'a', method: 'echo', params: [1] },
      { jsonrpc: '2.0', method: 'echo', params: [2] },
      { jsonrpc: '2.0', id: 'b', method: 'nope' },
    ]), { token }),
  ) as { id: string; result?: unknown; error?: { data: { code: string } } }[]
  assert.equal(batch.length, 2)
  assert.equal(batch.find((r) => r.id === 'a')?.result, 1)
  assert.equal(batch.find((r) => r.id === 'b')?.error?.data.code, 'METHOD_NOT_FOUND')
}
