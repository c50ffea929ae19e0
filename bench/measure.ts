/** Timing helpers: sequential awaited round trips, interleaved rounds, medians, percentiles. */

export interface BenchRow {
  name: string
  kind: string
  placement: string
  transport: string
  metric: string
  unit: string
  polyplug: number
  baseline: number
  ratio: number
  /** Latency percentiles of single calls, µs, for rows measured by `compare` or `throughput`. */
  p50?: number
  p99?: number
  baseline_p50?: number
  baseline_p99?: number
  peer?: string
  peer_value?: number
  /** Which of polyplug and the peer is faster, and by how much: "polyplug 1.4× faster". */
  peer_verdict?: string
}

export type Op = () => Promise<unknown> | unknown

/** One measured op: the figure the row shows (µs per call, or calls/s), with single-call percentiles in µs. */
export interface Timing {
  value: number
  p50: number
  p99: number
  /** The figure of each timed round, in round order (µs per call, or calls/s). */
  rounds?: number[]
  /** The same object for every op of one `compare` / `throughput` call: rounds of one pass are paired. */
  pass?: object
}

/** A row's figure: a plain number (start-up ms, MiB/s, …) or a Timing that brings its percentiles. */
export type Figure = number | Timing

/** Microseconds per op: the median over `rounds` of the mean of `batch` sequential ops. */
async function sample(op: Op, batch: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < batch; i++) await op()
  return ((performance.now() - t0) * 1000) / batch
}

/** Single-call latencies in µs, each op timed on its own (kept apart from the means, which it would slow). */
async function latencies(op: Op, count: number, into: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    await op()
    into.push((performance.now() - t0) * 1000)
  }
}

/**
 * Warm-up of each op before it is measured: at least `calls` calls and at least WARMUP_MS of them.
 * A call count alone left a deep call path half-tiered: 2000 calls of a sub-µs op take a
 * millisecond, while V8 is still compiling it in the background, so the rounds after it measured
 * the JIT's progress (js inline: 1.3–2.5 µs per call after 2000 calls, 0.18–0.28 µs after 30 000;
 * an awaited plain function is optimized after a few hundred). The floor is the same for every op
 * of a comparison, and a slow op (a 1 MiB echo) reaches it in a few calls.
 */
export const WARMUP_MS = 250

async function warmUp(op: Op, calls: number, ms = WARMUP_MS): Promise<void> {
  const until = performance.now() + ms
  for (let i = 0; i < calls || performance.now() < until; i++) await op()
}

/**
 * Measures several ops against each other, interleaving their rounds so that machine noise
 * falls on all of them alike. Returns µs per op (median of round means) in the order given, each
 * with p50/p99 of single calls from a separate, also interleaved, pass.
 */
export async function compare(ops: Op[], options: { batch?: number; rounds?: number; warmup?: number } = {}): Promise<Timing[]> {
  const batch = options.batch ?? 500
  const rounds = options.rounds ?? 15
  for (const op of ops) await warmUp(op, options.warmup ?? 2000)
  const samples: number[][] = ops.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [i, op] of ops.entries()) samples[i]?.push(await sample(op, batch))
  }
  const single: number[][] = ops.map(() => [])
  const perOp = Math.min(2000, Math.max(20, Math.ceil((batch * rounds) / 5)))
  for (let r = 0; r < 4; r++) for (const [i, op] of ops.entries()) await latencies(op, Math.ceil(perOp / 4), single[i]!)
  const pass = {}
  return samples.map((s, i) => ({ value: median(s), p50: percentile(single[i]!, 0.5), p99: percentile(single[i]!, 0.99), rounds: s, pass }))
}

/**
 * Calls per second with `inFlight` calls outstanding at all times (each lane awaits its call,
 * then starts the next) for `ms` per round, interleaved between ops like `compare`; the median of
 * `rounds`. Percentiles are of single calls under that load, µs. Rounds are bounded in time, not
 * in calls, so that a slow transport at 256 in flight costs no more than a fast one.
 */
export async function throughput(ops: Op[], inFlight: number, options: { ms?: number; rounds?: number } = {}): Promise<Timing[]> {
  const ms = options.ms ?? 150
  const rounds = options.rounds ?? 5
  const rates: number[][] = ops.map(() => [])
  const single: number[][] = ops.map(() => [])
  for (const op of ops) await drive(op, inFlight, Math.max(ms / 2, WARMUP_MS), []) // warm up, as compare does
  for (let r = 0; r < rounds; r++) {
    for (const [i, op] of ops.entries()) rates[i]!.push(await drive(op, inFlight, ms, single[i]!))
  }
  const pass = {}
  return rates.map((s, i) => ({ value: median(s), p50: percentile(single[i]!, 0.5), p99: percentile(single[i]!, 0.99), rounds: s, pass }))
}

async function drive(op: Op, inFlight: number, ms: number, into: number[]): Promise<number> {
  let done = 0
  const t0 = performance.now()
  const until = t0 + ms
  const lane = async () => {
    for (let start = performance.now(); start < until; ) {
      await op()
      const end = performance.now()
      into.push((end - start) * 1000)
      done++
      start = end
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return (done * 1000) / (performance.now() - t0)
}

export function median(values: number[]): number {
  return percentile(values, 0.5)
}

export function percentile(values: number[], q: number): number {
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

const valueOf = (f: Figure) => (typeof f === 'number' ? f : f.value)

/** Higher is better for rates (calls/s, MiB/s), lower for everything else (µs, ms, MB). */
export const higherIsBetter = (unit: string) => unit.endsWith('/s')

function verdict(polyplug: number, peer: number, unit: string): string {
  const polyplugWins = higherIsBetter(unit) ? polyplug >= peer : polyplug <= peer
  const factor = Math.max(polyplug / peer, peer / polyplug)
  const word = unit === 'MB' || unit === 'MiB' ? 'smaller' : 'faster'
  return `${polyplugWins ? 'polyplug' : 'peer'} ${round(factor)}× ${word}`
}

type RowFields = Omit<BenchRow, 'ratio' | 'metric' | 'unit' | 'polyplug' | 'baseline' | 'peer_value' | 'p50' | 'p99' | 'baseline_p50' | 'baseline_p99' | 'peer_verdict'> &
  Partial<Pick<BenchRow, 'metric' | 'unit'>> & { polyplug: Figure; baseline: Figure; peer_value?: Figure }

/** Each row's per-round figures, for `--record FILE`: polyplug's and the baseline's, paired by round where they share a pass. */
export interface RoundsRecord {
  polyplug?: number[]
  baseline?: number[]
  paired: boolean
}
const recorded = new WeakMap<BenchRow, RoundsRecord>()
export const roundsOf = (r: BenchRow): RoundsRecord | undefined => recorded.get(r)

export function row(fields: RowFields): BenchRow {
  const unit = fields.unit ?? 'us'
  const polyplug = valueOf(fields.polyplug)
  const baseline = valueOf(fields.baseline)
  const percentiles = (prefix: '' | 'baseline_', f: Figure) => (typeof f === 'number' ? {} : { [`${prefix}p50`]: round(f.p50), [`${prefix}p99`]: round(f.p99) })
  const { peer_value: peerFigure, ...rest } = fields
  const peer = peerFigure === undefined ? undefined : valueOf(peerFigure)
  const result: BenchRow = {
    metric: 'round-trip',
    ...rest,
    unit,
    polyplug: round(polyplug),
    baseline: round(baseline),
    ratio: round(polyplug / baseline),
    ...percentiles('', fields.polyplug),
    ...percentiles('baseline_', fields.baseline),
    ...(peer === undefined ? {} : { peer_value: round(peer), peer_verdict: verdict(polyplug, peer, unit) }),
  }
  const p = typeof fields.polyplug === 'number' ? undefined : fields.polyplug
  const b = typeof fields.baseline === 'number' ? undefined : fields.baseline
  if (p?.rounds || b?.rounds) recorded.set(result, { polyplug: p?.rounds, baseline: b?.rounds, paired: p?.pass !== undefined && p.pass === b?.pass })
  return result
}
