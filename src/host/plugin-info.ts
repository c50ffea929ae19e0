/** What the host reports about a plugin: its state, `host.list()`'s row, `host.stats()`'s row, `host.memory()`'s row. */
import type { Manifest } from '../manifest/schema.js'
import type { PoolView } from '../registry/types.js'
import type { MethodStats } from './stats.js'

/**
 * `inactive` (resolved, not running) → `starting` → `active` → `stopping` → `inactive`; `failed`
 * after a failed start (the next call retries); `disabled` by the application; `unavailable` when
 * resolution refused it (the reason is in `lastError`).
 */
export type PluginState = 'inactive' | 'starting' | 'active' | 'stopping' | 'failed' | 'disabled' | 'unavailable'

export interface PluginInfo {
  id: string
  version: string
  kind: Manifest['kind']
  placement: Manifest['placement']
  transport: Manifest['transport']
  entry: string
  dir: string
  status: PluginState
  /** The event that last activated the plugin, e.g. `onMethod:echo`. */
  activationReason?: string
  /** Milliseconds to launch (load the module, start the worker) and to run the handshake plus `activate`. */
  loadMs?: number
  activateMs?: number
  /** Methods the plugin reported in its handshake. */
  methods?: string[]
  /** Protocol features it reported in its handshake, e.g. `streams`. */
  capabilities?: string[]
  lastError?: { code: string; message: string }
  /** Resolved dependency plugin ids. */
  dependencies?: string[]
}

/** `host.stats()`: one row per plugin. */
export interface PluginStats {
  id: string
  status: PluginState
  activationReason?: string
  loadMs?: number
  activateMs?: number
  activations: number
  /** Starts after the first (after a stop, a reload or a crash). */
  restarts: number
  /** Crashes (and failed starts, hangs) since the host started, and within the restart policy's window. */
  crashes: number
  recentCrashes: number
  /** Set while the circuit breaker keeps the plugin from starting (`reset()` clears it). */
  quarantine?: { code: string; message: string }
  /** Milliseconds since the running instance became active. */
  uptimeMs?: number
  pid?: number
  calls: number
  errors: number
  /** Failed calls by error code, over all methods. */
  errorsByCode: Record<string, number>
  /** Latency percentiles (ms) over the most recent calls of every method. */
  p50: number
  p99: number
  methods: Record<string, MethodStats>
  /** A pool of replicas (manifest `scale`, while active): its replicas and failover counts. */
  pool?: PoolView
}

/** `host.memory()`: what one running plugin occupies, as far as its placement lets the host see. */
export interface PluginMemory {
  id: string
  /** Resident set size of the plugin's own process. */
  rssBytes?: number
  /** V8 heap in use, for JS plugins in a worker (or what a plugin reports). */
  heapBytes?: number
  /** A WebAssembly plugin's linear memory. */
  linearMemoryBytes?: number
}
