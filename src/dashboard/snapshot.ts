/** What the dashboard page shows: one row per plugin, from the host's public API. */
import type { Host, LogRecord, PluginMemory, PluginStats } from '../index.js'

/** A row: the host's stats for the plugin (the same fields, not a copy of their types), plus what the page adds. */
export interface PluginRow
  extends Pick<PluginStats, 'id' | 'activationReason' | 'uptimeMs' | 'pid' | 'calls' | 'errors' | 'errorsByCode' | 'p50' | 'p99' | 'activations' | 'restarts' | 'crashes' | 'quarantine'> {
  version: string
  kind: string
  placement: string
  transport: string
  status: string
  memory?: Omit<PluginMemory, 'id'>
  lastError?: { code: string; message: string }
  methods: string[]
  logs: LogRecord[]
}

export interface Snapshot {
  time: number
  plugins: PluginRow[]
  invalid: { dir: string; code: string; message: string }[]
}

/** Log lines per plugin sent with each snapshot (the page keeps appending live ones). */
const LOG_LINES = 20

export async function snapshot(host: Host): Promise<Snapshot> {
  const memory = new Map((await host.memory()).map(({ id, ...m }) => [id, m]))
  const stats = new Map(host.stats().map((s) => [s.id, s]))
  const plugins = host.list().map((info): PluginRow => {
    const s = stats.get(info.id)!
    const m = memory.get(info.id)
    return {
      id: info.id,
      version: info.version,
      kind: info.kind,
      placement: info.placement,
      transport: info.transport,
      status: info.status,
      ...(info.activationReason === undefined ? {} : { activationReason: info.activationReason }),
      ...(s.uptimeMs === undefined ? {} : { uptimeMs: s.uptimeMs }),
      ...(s.pid === undefined ? {} : { pid: s.pid }),
      calls: s.calls,
      errors: s.errors,
      errorsByCode: s.errorsByCode,
      p50: s.p50,
      p99: s.p99,
      activations: s.activations,
      restarts: s.restarts,
      crashes: s.crashes,
      ...(s.quarantine ? { quarantine: s.quarantine } : {}),
      ...(m ? { memory: m } : {}),
      ...(info.lastError ? { lastError: info.lastError } : {}),
      methods: info.methods ?? [],
      logs: host.logs(info.id).slice(-LOG_LINES),
    }
  })
  const invalid = host.invalid().map((bad) => ({ dir: bad.dir, code: bad.error.code, message: bad.error.message }))
  return { time: Date.now(), plugins, invalid }
}
