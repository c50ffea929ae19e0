/**
 * Per-plugin, per-method call counts, errors by code, latency percentiles and a latency histogram.
 * A call over a channel is timed in full (`record`). A direct call to an inline plugin costs about
 * as much as the two clock reads that would time it, so it is metered (`begin`): every call and
 * error is counted, the first TIMED_FIRST calls of a method are timed, then one call in
 * SAMPLE_EVERY; a call not timed enters the histogram, the sum and the percentile window with the
 * latency of the method's latest timed call. The buckets still add up to the calls.
 */

/** Latency samples kept per method: the most recent ones, so percentiles follow current behaviour. */
const WINDOW = 1024

/** Metered calls of a method that are all timed, before sampling starts. */
export const TIMED_FIRST = 64
/** After TIMED_FIRST, one metered call in this many is timed. */
export const SAMPLE_EVERY = 8

/** How a metered call ends: with the error it failed with, if any. */
export type CallEnd = (error?: { code: string }) => void

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

/** The index in a histogram's counts of the bucket that `ms` falls in. */
function bucketOf(ms: number): number {
  let i = 0
  while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++
  return i
}

class MethodRecord {
  calls = 0
  errors = 0
  readonly errorsByCode: Record<string, number> = {}
  readonly samples = new Float64Array(WINDOW)
  readonly buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0)
  sumMs = 0
  /** Metered calls begun, and the latency of the latest timed one and its histogram bucket. */
  begun = 0
  heldMs = 0
  heldBucket = 0
  #next = 0

  add(ms: number, errorCode: string | undefined): void {
    if (errorCode !== undefined) {
      this.errors++
      this.errorsByCode[errorCode] = (this.errorsByCode[errorCode] ?? 0) + 1
    }
    this.addAt(ms, bucketOf(ms))
  }

  /** A call that succeeded in `ms`, whose histogram bucket is known. */
  addAt(ms: number, bucket: number): void {
    this.calls++
    this.samples[this.#next++ % WINDOW] = ms
    this.sumMs += ms
    this.buckets[bucket]!++
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

/** A method's record with the end of an untimed metered call made once, not per call. */
class MeteredRecord extends MethodRecord {
  readonly untimed: CallEnd

  constructor(all: MethodRecord) {
    super()
    this.untimed = (error) => {
      if (error !== undefined) {
        this.add(this.heldMs, error.code)
        all.add(this.heldMs, error.code)
        return
      }
      // The usual end: the held latency's bucket was found when it was timed.
      this.addAt(this.heldMs, this.heldBucket)
      all.addAt(this.heldMs, this.heldBucket)
    }
  }
}

export class CallStats {
  readonly #methods = new Map<string, MeteredRecord>()
  readonly #all = new MethodRecord()
  /** The method called last: calls in a row to one method skip the map. */
  #lastName: string | undefined
  #last: MeteredRecord | undefined

  #method(method: string): MeteredRecord {
    if (method === this.#lastName) return this.#last!
    let record = this.#methods.get(method)
    if (!record) this.#methods.set(method, (record = new MeteredRecord(this.#all)))
    this.#lastName = method
    this.#last = record
    return record
  }

  /** One finished call: its duration, and the error code if it failed. */
  record(method: string, ms: number, errorCode?: string): void {
    const record = this.#method(method)
    record.heldMs = ms
    record.heldBucket = bucketOf(ms)
    record.add(ms, errorCode)
    this.#all.add(ms, errorCode)
  }

  /**
   * A metered call begins; call what this returns once when it ends. Sampled (see above): an
   * untimed call reads no clock and allocates nothing.
   */
  begin(method: string): CallEnd {
    const record = this.#method(method)
    const n = record.begun++
    if (n >= TIMED_FIRST && n % SAMPLE_EVERY !== 0) return record.untimed
    const t0 = performance.now()
    return (error) => this.record(method, performance.now() - t0, error?.code)
  }

  /** Every method together. */
  overall(): MethodStats {
    return this.#all.summary()
  }

  summary(): Record<string, MethodStats> {
    return Object.fromEntries([...this.#methods].map(([m, r]) => [m, r.summary()]))
  }
}
