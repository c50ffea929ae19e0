/**
 * Per-plugin, per-method call counts, errors by code, latency percentiles and a latency histogram.
 * A call over a channel is timed in full (`record`). A direct call to an inline plugin costs less
 * than the two clock reads that would time it, so it is metered (`begin`): every call and error is
 * counted, the first TIMED_FIRST calls of a method are timed, then one call in SAMPLE_EVERY. A call
 * not timed enters the histogram and the sum with the latency of the method's latest timed call, so
 * the buckets still add up to the calls; the percentiles are those of the timed calls (a window of
 * the latest WINDOW), each untimed call being a copy of one of them. An untimed call that succeeds
 * is only counted when it ends: the calls counted since the latest timed one all carry its latency,
 * so they are added together when that latency changes or the figures are read.
 */

/** Latency samples kept per method (timed calls): the most recent ones, so percentiles follow current behaviour. */
const WINDOW = 1024

/** Metered calls of a method that are all timed, before sampling starts. */
export const TIMED_FIRST = 64
/** After TIMED_FIRST, one metered call in this many is timed. */
export const SAMPLE_EVERY = 64

/** How a metered call ends: told once, with the error it failed with, if any. */
export interface CallEnd {
  ended(error?: { code: string }): void
}

/** One method's statistics, for a caller that meters its calls without naming the method each time. */
export interface MethodMeter {
  /** A metered call begins; tell what this returns once when it ends (see CallStats.begin). */
  begin(): CallEnd
}

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
  /** Milliseconds, over the most recent timed calls (every call over a channel; sampled direct calls). */
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
  /** Timed calls so far: the next one's place in the window. */
  #timed = 0

  /** A timed call, whose histogram bucket is known: counted, and its latency kept in the percentile window. */
  add(ms: number, bucket: number, errorCode: string | undefined): void {
    this.count(1, ms, bucket, errorCode)
    this.samples[this.#timed++ % WINDOW] = ms
  }

  /** `n` calls of `ms` each, whose histogram bucket is known: counted, not kept in the window (untimed calls). */
  count(n: number, ms: number, bucket: number, errorCode?: string): void {
    if (errorCode !== undefined) {
      this.errors += n
      this.errorsByCode[errorCode] = (this.errorsByCode[errorCode] ?? 0) + n
    }
    this.calls += n
    this.sumMs += n * ms
    this.buckets[bucket]! += n
  }

  summary(): MethodStats {
    const n = Math.min(this.#timed, WINDOW)
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

/**
 * A method's record, metered: an untimed call's end is one object per method (`untimed`), so that
 * a call that is not timed allocates nothing and its usual end is one increment.
 */
class MeteredRecord extends MethodRecord implements MethodMeter {
  /** Metered calls to begin untimed before the next timed one; timed metered calls begun. */
  skip = 0
  timedBegun = 0
  /** The latency of the latest timed call and its histogram bucket. */
  heldMs = 0
  heldBucket = 0
  /** Untimed calls that succeeded since the held latency was set, not yet counted (`settle`). */
  pending = 0
  /** The end of every untimed call of this method. */
  readonly untimed: MeterEnd = new MeterEnd(this, UNTIMED)

  constructor(readonly all: MethodRecord) {
    super()
  }

  begin(): CallEnd {
    if (this.skip > 0) {
      this.skip--
      return this.untimed
    }
    return this.#timedBegin()
  }

  /** A timed call begins; the next SAMPLE_EVERY - 1 (once past the first TIMED_FIRST) are not timed. */
  #timedBegin(): CallEnd {
    this.skip = ++this.timedBegun > TIMED_FIRST ? SAMPLE_EVERY - 1 : 0
    return new MeterEnd(this, performance.now())
  }

  /** An untimed call that failed: counted at once, by code, with the held latency. */
  failed(code: string): void {
    this.count(1, this.heldMs, this.heldBucket, code)
    this.all.count(1, this.heldMs, this.heldBucket, code)
  }

  /** Counts the pending untimed calls, each with the held latency, here and in every method's total. */
  settle(): void {
    const n = this.pending
    if (n === 0) return
    this.pending = 0
    this.count(n, this.heldMs, this.heldBucket)
    this.all.count(n, this.heldMs, this.heldBucket)
  }

  /** A call timed in `ms`: its latency is held for the untimed calls after it. */
  timed(ms: number, errorCode: string | undefined): void {
    this.settle()
    const bucket = bucketOf(ms)
    this.heldMs = ms
    this.heldBucket = bucket
    this.add(ms, bucket, errorCode)
    this.all.add(ms, bucket, errorCode)
  }
}

/** `MeterEnd.t0` of an untimed call. */
const UNTIMED = -1

/**
 * The end of a metered call, timed (its start) or not. One class for both, so that the place that
 * ends a call sees one kind of object and the compiler takes `ended` in line there: the usual end,
 * an untimed call that succeeded, is then one increment.
 */
class MeterEnd implements CallEnd {
  constructor(
    readonly record: MeteredRecord,
    readonly t0: number,
  ) {}

  ended(error?: { code: string }): void {
    if (this.t0 !== UNTIMED) this.record.timed(performance.now() - this.t0, error?.code)
    else if (error === undefined) this.record.pending++
    else this.record.failed(error.code)
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
    this.#method(method).timed(ms, errorCode)
  }

  /**
   * A metered call begins; call what this returns once when it ends. Sampled (see above): an
   * untimed call reads no clock and allocates nothing.
   */
  begin(method: string): CallEnd {
    return this.#method(method).begin()
  }

  /** Method `method`'s meter, to begin its calls on without finding the method each time. */
  meter(method: string): MethodMeter {
    return this.#method(method)
  }

  /** Every method together. */
  overall(): MethodStats {
    for (const record of this.#methods.values()) record.settle()
    return this.#all.summary()
  }

  summary(): Record<string, MethodStats> {
    return Object.fromEntries([...this.#methods].map(([m, r]) => (r.settle(), [m, r.summary()])))
  }
}
