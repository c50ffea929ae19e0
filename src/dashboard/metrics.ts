/**
 * `/metrics`: the host's per-plugin figures in the Prometheus text format, through prom-client's
 * registry and formatter. The values are read from `host.stats()` and `host.memory()` at scrape
 * time (the host owns the counts, whenever the dashboard started), so each metric here is a
 * collector that hands prom-client a ready snapshot.
 */
import { createRequire } from 'node:module'
import type { Registry, Metric } from 'prom-client'
import type { Host, PluginMemory, PluginState, PluginStats } from '../index.js'

type Labels = Record<string, string | number>
interface Value {
  value: number
  labels: Labels
  metricName?: string
}
interface Snapshot {
  stats: PluginStats[]
  memory: PluginMemory[]
}

const STATES: readonly PluginState[] = ['inactive', 'starting', 'active', 'stopping', 'failed', 'disabled', 'unavailable']

/** One metric family computed from a snapshot; prom-client formats it. */
function family(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: (s: Snapshot) => Value[], read: () => Promise<Snapshot>) {
  return {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    collect: () => {},
    async get() {
      return { name, help, type, aggregator: 'sum' as const, values: values(await read()) }
    },
  }
}

function perMethod(stats: PluginStats[]): [PluginStats, string, PluginStats['methods'][string]][] {
  return stats.flatMap((s) => Object.entries(s.methods).map(([method, m]) => [s, method, m] as [PluginStats, string, PluginStats['methods'][string]]))
}

function histogram(name: string, stats: PluginStats[]): Value[] {
  const out: Value[] = []
  for (const [s, method, m] of perMethod(stats)) {
    const labels = { plugin: s.id, method }
    let cumulative = 0
    m.latency.boundsMs.forEach((bound, i) => {
      cumulative += m.latency.counts[i] ?? 0
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound / 1000 }, value: cumulative })
    })
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: m.calls })
    out.push({ metricName: `${name}_sum`, labels, value: m.latency.sumMs / 1000 })
    out.push({ metricName: `${name}_count`, labels, value: m.calls })
  }
  return out
}

/** A registry whose metrics describe every plugin of `host`; `registry.metrics()` is the scrape body. */
export function pluginMetrics(host: Host): Registry {
  // prom-client (with the OpenTelemetry API it loads, ≈80 files) is required here, on the first
  // call, not when `polyplug` is imported: a host that never serves /metrics never pays for it.
  // The module is CommonJS, so an application's own `import 'prom-client'` gets the same classes.
  const { Registry } = createRequire(import.meta.url)('prom-client') as typeof import('prom-client')
  const registry = new Registry()
  // One snapshot per scrape, shared by every family.
  let pending: Promise<Snapshot> | undefined
  const read = () => {
    pending ??= host.memory().then((memory) => {
      queueMicrotask(() => (pending = undefined))
      return { stats: host.stats(), memory }
    })
    return pending
  }
  const perPlugin = (pick: (s: PluginStats) => number) => (snap: Snapshot) => snap.stats.map((s) => ({ labels: { plugin: s.id }, value: pick(s) }))
  const families = [
    family('polyplug_plugin_calls_total', 'Calls to the plugin, by method.', 'counter', (snap) => perMethod(snap.stats).map(([s, method, m]) => ({ labels: { plugin: s.id, method }, value: m.calls })), read),
    family('polyplug_plugin_errors_total', 'Failed calls, by method and error code.', 'counter', (snap) =>
      perMethod(snap.stats).flatMap(([s, method, m]) => Object.entries(m.errorsByCode).map(([code, n]) => ({ labels: { plugin: s.id, method, code }, value: n }))), read),
    family('polyplug_plugin_call_duration_seconds', 'Call latency, as the host measured it.', 'histogram', (snap) => histogram('polyplug_plugin_call_duration_seconds', snap.stats), read),
    family('polyplug_plugin_activations_total', 'Times the plugin was started.', 'counter', perPlugin((s) => s.activations), read),
    family('polyplug_plugin_restarts_total', 'Starts after the first (after a stop, reload or crash).', 'counter', perPlugin((s) => s.restarts), read),
    family('polyplug_plugin_crashes_total', 'Crashes, failed starts and hangs.', 'counter', perPlugin((s) => s.crashes), read),
    family('polyplug_plugin_quarantined', '1 while the circuit breaker keeps the plugin from starting.', 'gauge', perPlugin((s) => (s.quarantine ? 1 : 0)), read),
    family('polyplug_plugin_state', 'The plugin\'s state: 1 for the current one.', 'gauge', (snap) =>
      snap.stats.flatMap((s) => STATES.map((state) => ({ labels: { plugin: s.id, state }, value: s.status === state ? 1 : 0 }))), read),
    family('polyplug_plugin_uptime_seconds', 'Seconds since the running instance became active (0 when not running).', 'gauge', perPlugin((s) => (s.uptimeMs ?? 0) / 1000), read),
    family('polyplug_plugin_memory_bytes', 'Memory of a running plugin: rss (its process), heap (a worker\'s V8 heap), linear (WebAssembly).', 'gauge', (snap) =>
      snap.memory.flatMap((m) => [
        ...(m.rssBytes === undefined ? [] : [{ labels: { plugin: m.id, type: 'rss' }, value: m.rssBytes }]),
        ...(m.heapBytes === undefined ? [] : [{ labels: { plugin: m.id, type: 'heap' }, value: m.heapBytes }]),
        ...(m.linearMemoryBytes === undefined ? [] : [{ labels: { plugin: m.id, type: 'linear' }, value: m.linearMemoryBytes }]),
      ]), read),
  ]
  for (const f of families) registry.registerMetric(f as unknown as Metric)
  return registry
}
