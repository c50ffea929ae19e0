/** Per-plugin, per-method call counts, errors by code, latency percentiles and a latency histogram. */

/** Latency samples kept per method: the most recent ones, so percentiles follow current behaviour. */
const WINDOW = 1024

/** Upper bounds (ms) of the latency histogram's buckets; one more bucket counts everything slower. */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

export interface LatencyHistogram {
  /** LATENCY_BUCKETS_MS. */
  boundsMs: readonly number[]
  /** Calls per bucket (not cumulative); one more entry than `boundsMs`, for slower calls. */
  counts: number[]
  sumMs: number
}

export interface MethodStats {
  calls: number
  errors: number
  /** Failed calls by error code, e.g. `{ RPC_TIMEOUT: 2 }`. */
  errorsByCode: Record<string, number>
  /** Milliseconds, over the most recent calls. */
  p50: number
  p95: number
  p99: number
  /** Every call since the host started. */
  latency: LatencyHistogram
}

class MethodRecord {
  calls = 0
  errors = 0
  readonly errorsByCode: Record<string, number> = {}
  readonly samples = new Float64Array(WINDOW)
  readonly buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0)
  sumMs = 0
  #next = 0

  add(ms: number, errorCode: string | undefined): void {
    this.calls++
    if (errorCode !== undefined) {
      this.errors++
      this.errorsByCode[errorCode] = (this.errorsByCode[errorCode] ?? 0) + 1
    }
    this.samples[this.#next++ % WINDOW] = ms
    this.sumMs += ms
    let i = 0
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++
    this.buckets[i]!++
  }

  summary(): MethodStats {
    const n = Math.min(this.calls, WINDOW)
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b)
    const at = (q: number) => (n === 0 ? 0 : Math.round((sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0) * 1000) / 1000)
    return {
      calls: this.calls,
      errors: this.errors,
      errorsByCode: { ...this.errorsByCode },
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      latency: { boundsMs: LATENCY_BUCKETS_MS, counts: [...this.buckets], sumMs: this.sumMs },
    }
  }
}

export class CallStats {
  readonly #methods = new Map<string, MethodRecord>()
  readonly #all = new MethodRecord()

  /** One finished call: its duration, and the error code if it failed. */
  record(method: string, ms: number, errorCode?: string): void {
    let record = this.#methods.get(method)
    if (!record) this.#methods.set(method, (record = new MethodRecord()))
    record.add(ms, errorCode)
    this.#all.add(ms, errorCode)
  }

  /** Every method together. */
  overall(): MethodStats {
    return this.#all.summary()
  }

  summary(): Record<string, MethodStats> {
    return Object.fromEntries([...this.#methods].map(([m, r]) => [m, r.summary()]))
  }
}
