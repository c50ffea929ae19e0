/**
 * The "Running Plugins" dashboard: an HTTP server on loopback (by default) that serves one page,
 * its script, a JSON snapshot, live updates as server-sent events, `/metrics` for Prometheus,
 * and actions on plugins. Reading needs nothing; every action needs the token (`Authorization:
 * Bearer TOKEN`), and every action, done or refused, is written to the host's log.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Host } from '../index.js'
import { ACTIONS, type ActionRequest } from './actions.js'
import { pluginMetrics } from './metrics.js'
import { PAGE } from './page.js'
import { snapshot } from './snapshot.js'

export interface DashboardOptions {
  /** Default 0: any free port. */
  port?: number
  /** Address to bind. Default `127.0.0.1`: only this machine can reach the dashboard. */
  host?: string
  /** The secret every action must carry. Default: 32 random hex characters. */
  token?: string
  /** How often open pages get a fresh snapshot (ms). Default 1000. */
  intervalMs?: number
}

export interface Dashboard {
  /** `http://ADDRESS:PORT/` */
  readonly url: string
  /** The URL with the token in its fragment (never sent to the server): the page reads it from there. */
  readonly openUrl: string
  readonly port: number
  readonly token: string
  close(): Promise<void>
}

const MAX_BODY = 1 << 20
const clientScript = new URL('./client/app.js', import.meta.url)

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<ActionRequest> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY} bytes`), { code: 'FRAME_TOO_LARGE' })
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    const body = JSON.parse(text) as unknown
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as ActionRequest) : {}
  } catch (e) {
    throw Object.assign(new Error(`request body is not JSON: ${(e as Error).message}`), { code: 'INVALID_PARAMS' })
  }
}

export async function serveDashboard(host: Host, options: DashboardOptions = {}): Promise<Dashboard> {
  const token = options.token ?? randomBytes(16).toString('hex')
  const bind = options.host ?? '127.0.0.1'
  const metrics = pluginMetrics(host)
  const streams = new Set<ServerResponse>()

  const push = async () => {
    if (streams.size === 0) return
    const data = `event: snapshot\ndata: ${JSON.stringify(await snapshot(host))}\n\n`
    for (const res of streams) res.write(data)
  }
  // One snapshot at a time: a tick that comes while one is being made asks for one more, never a queue.
  let busy = false
  let again = false
  const schedulePush = () => {
    if (busy) {
      again = true
      return
    }
    busy = true
    push()
      .catch(() => {})
      .finally(() => {
        busy = false
        if (again) {
          again = false
          schedulePush()
        }
      })
  }
  const timer = setInterval(schedulePush, options.intervalMs ?? 1000)
  timer.unref()
  const stopLogs = host.onLog((record) => {
    const data = `event: log\ndata: ${JSON.stringify(record)}\n\n`
    for (const res of streams) res.write(data)
  })

  const act = async (req: IncomingMessage, res: ServerResponse, id: string, action: string) => {
    const from = req.socket.remoteAddress ?? 'unknown'
    const auth = req.headers.authorization ?? ''
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : ''
    if (!sameSecret(given, token)) {
      host.log({ level: 'warn', plugin: id, message: `dashboard: refused "${action}" from ${from}: ${given ? 'wrong' : 'no'} token` })
      json(res, 401, { error: { code: 'PERMISSION_DENIED', message: 'dashboard actions need the token: Authorization: Bearer TOKEN (printed when the dashboard started)' } })
      return
    }
    const run = ACTIONS[action]
    if (!run) {
      json(res, 404, { error: { code: 'METHOD_NOT_FOUND', message: `no action "${action}"; actions: ${Object.keys(ACTIONS).join(', ')}` } })
      return
    }
    if (!host.has(id)) {
      json(res, 404, { error: { code: 'PLUGIN_NOT_FOUND', message: `no plugin with id "${id}"` } })
      return
    }
    try {
      const body = await readBody(req)
      host.log({ level: 'info', plugin: id, message: `dashboard: ${action}${action === 'call' ? ` ${String(body.method)}` : ''} (from ${from})` })
      const result = await run(host, id, body)
      json(res, 200, { ok: true, ...(result === undefined ? {} : { result }) })
    } catch (error) {
      const e = error as { code?: string; message?: string }
      host.log({ level: 'warn', plugin: id, message: `dashboard: ${action} failed: ${e.code ?? 'ERROR'}: ${e.message ?? String(error)}` })
      json(res, 400, { error: { code: e.code ?? 'INTERNAL_ERROR', message: e.message ?? String(error) } })
    }
    schedulePush()
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard')
    const path = url.pathname
    const route = /^\/api\/plugins\/([^/]+)\/([a-z]+)$/.exec(path)
    const handle = async () => {
      if (req.method === 'POST' && route) return act(req, res, decodeURIComponent(route[1]!), route[2]!)
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: { code: 'INVALID_REQUEST', message: `${req.method ?? ''} is not served here` } })
      switch (path) {
        case '/':
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          return res.end(PAGE)
        case '/app.js':
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
          return res.end(await readFile(clientScript))
        case '/api/plugins':
          return json(res, 200, await snapshot(host))
        case '/metrics':
          res.writeHead(200, { 'content-type': metrics.contentType })
          return res.end(await metrics.metrics())
        case '/events':
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
          res.write(`event: snapshot\ndata: ${JSON.stringify(await snapshot(host))}\n\n`)
          streams.add(res)
          req.on('close', () => streams.delete(res))
          return
        default:
          return json(res, 404, { error: { code: 'NOT_FOUND', message: `nothing at ${path}` } })
      }
    }
    handle().catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { code: 'INTERNAL_ERROR', message: (error as Error).message } })
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, bind, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const address = bind.includes(':') ? `[${bind}]` : bind
  const url = `http://${address}:${port}/`
  host.log({ level: 'info', message: `dashboard: serving ${url}` })
  return {
    url,
    openUrl: `${url}#token=${token}`,
    port,
    token,
    close: async () => {
      clearInterval(timer)
      stopLogs()
      for (const res of streams) res.end()
      streams.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
