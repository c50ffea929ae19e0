/** Per-plugin, per-method call counts, error counts and latency percentiles. */

/** Latency samples kept per method: the most recent ones, so percentiles follow current behaviour. */
const WINDOW = 1024

export interface MethodStats {
  calls: number
  errors: number
  /** Milliseconds, over the most recent calls. */
  p50: number
  p95: number
  p99: number
}

class MethodRecord {
  calls = 0
  errors = 0
  readonly samples = new Float64Array(WINDOW)
  #next = 0

  add(ms: number, ok: boolean): void {
    this.calls++
    if (!ok) this.errors++
    this.samples[this.#next++ % WINDOW] = ms
  }

  summary(): MethodStats {
    const n = Math.min(this.calls, WINDOW)
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b)
    const at = (q: number) => (n === 0 ? 0 : Math.round((sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0) * 1000) / 1000)
    return { calls: this.calls, errors: this.errors, p50: at(0.5), p95: at(0.95), p99: at(0.99) }
  }
}

export class CallStats {
  readonly #methods = new Map<string, MethodRecord>()

  record(method: string, ms: number, ok: boolean): void {
    let record = this.#methods.get(method)
    if (!record) this.#methods.set(method, (record = new MethodRecord()))
    record.add(ms, ok)
  }

  summary(): Record<string, MethodStats> {
    return Object.fromEntries([...this.#methods].map(([m, r]) => [m, r.summary()]))
  }
}
