/** The workbench application's HTTP side: its page, its script, the feature list and one endpoint that runs a feature. */
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Dashboard, Host } from '../../src/index.js'
import { FEATURES } from './features.js'
import { page } from './page.js'

export interface Workbench {
  url: string
  close(): Promise<void>
}

const script = new URL('./client/app.js', import.meta.url)

async function body(req: IncomingMessage): Promise<{ text?: unknown }> {
  const chunks: Buffer[] = []
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { text?: unknown }
  } catch {
    return {}
  }
}

export async function serveWorkbench(host: Host, dashboard: Dashboard, port = 0): Promise<Workbench> {
  const server = createServer((req, res) => {
    const send = (status: number, type: string, data: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(data)
    }
    const path = new URL(req.url ?? '/', 'http://workbench').pathname
    const run = /^\/api\/run\/([a-z]+)$/.exec(path)
    void (async () => {
      if (req.method === 'POST' && run) {
        const feature = FEATURES.find((f) => f.id === run[1])
        if (!feature) return send(404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: `no feature "${run[1]}"` } }))
        const { text } = await body(req)
        const t0 = performance.now()
        try {
          const result = await feature.run(host, typeof text === 'string' ? text : '')
          return send(200, 'application/json', JSON.stringify({ feature: feature.id, plugin: feature.plugin, ms: performance.now() - t0, result }))
        } catch (error) {
          const e = error as { code?: string; message?: string }
          return send(200, 'application/json', JSON.stringify({ feature: feature.id, plugin: feature.plugin, error: { code: e.code ?? 'INTERNAL_ERROR', message: e.message ?? String(error) } }))
        }
      }
      if (path === '/') return send(200, 'text/html; charset=utf-8', page(dashboard.openUrl))
      if (path === '/app.js') return send(200, 'text/javascript; charset=utf-8', await readFile(script))
      if (path === '/api/features') return send(200, 'application/json', JSON.stringify(FEATURES.map(({ run: _run, ...f }) => f)))
      return send(404, 'text/plain', 'not found')
    })().catch((error: unknown) => send(500, 'text/plain', String(error)))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
