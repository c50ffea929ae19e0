/**
 * Timing helpers: sequential awaited round trips in interleaved rounds, and the estimator that turns
 * the rounds into a row.
 *
 * How a row's ratio is estimated (docs/performance.md, "Round seven: how sure is a ratio"): every op
 * of one `compare` (or `throughput`) pass runs once per round, the ops one after another, so
 * polyplug and its baseline are measured seconds apart at most and under the same load. The row's
 * `polyplug` and `baseline` are each side's median round (as before); its `ratio` is the median of
 * the **per-round paired ratios** polyplug / baseline, and `ratio_q1` / `ratio_q3` their quartiles,
 * so a reader sees how sure the ratio is. A ratio of two medians took polyplug's median from one
 * round and the baseline's from another, which saw another load: on a shared machine that moved rows
 * by more than the goals' margins between two runs of the same code. The order of the ops alternates
 * from round to round (forward, then reversed), so neither side always runs first or last in a
 * round (after the other's garbage, or before it); each pass starts from a collected heap, so no
 * side pays for the previous case's garbage. Both sides of a row always get the same treatment.
 * `npm run bench -- --record FILE` keeps every round; `node dist/bench/spread.js FILE...` compares
 * the estimators over recorded runs, `node dist/bench/aa.js` measures the estimator's own error
 * (two identical echoes against each other).
 */

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface BenchRow {
  name: string
  kind: string
  placement: string
  transport: string
  metric: string
  unit: string
  polyplug: number
  baseline: number
  /**
   * polyplug / baseline: the median of the per-round paired ratios where both were measured in one
   * pass. null where the baseline is at or below zero (a marginal figure below what its measure
   * resolves, e.g. the memory a bare import adds): no ratio to it means anything; `ratio_note` says so.
   */
  ratio: number | null
  ratio_note?: string
  /** Quartiles of the per-round paired ratios (how sure the ratio is), and how many rounds they rest on. */
  ratio_q1?: number
  ratio_q3?: number
  rounds?: number
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

/**
 * The order the ops of a pass run in, in round `round`: as given in even rounds, reversed in odd
 * ones, so that every op's mean position in a round is the same and each pair of ops runs
 * back to back both ways round.
 */
export function roundOrder(count: number, round: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i)
  return round % 2 === 0 ? order : order.reverse()
}

/** A ratio estimated from paired rounds: the median of the per-round ratios, with their quartiles. */
export interface PairedRatio {
  ratio: number
  q1: number
  q3: number
  rounds: number
}

/**
 * The median and quartiles of `a[i] / b[i]` over the rounds both sides measured; undefined when
 * they are not paired (different lengths, or no round).
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): PairedRatio | undefined {
  if (a.length === 0 || a.length !== b.length) return undefined
  const ratios = a.map((x, i) => x / b[i]!)
  return { ratio: percentile(ratios, 0.5), q1: percentile(ratios, 0.25), q3: percentile(ratios, 0.75), rounds: ratios.length }
}

/** The rounds of two figures measured in the same pass, paired; undefined otherwise. */
function paired(a: Figure | undefined, b: Figure | undefined): PairedRatio | undefined {
  if (a === undefined || b === undefined || typeof a === 'number' || typeof b === 'number') return undefined
  if (a.pass === undefined || a.pass !== b.pass || !a.rounds || !b.rounds) return undefined
  return pairedRatio(a.rounds, b.rounds)
}

let gc: (() => void) | undefined
/**
 * A full collection before a pass, outside its timing: garbage left by the previous case (or pass)
 * would otherwise be collected during whichever op's round happened to trigger it.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}

/** A row's figure: a plain number (start-up ms, MiB/s, …) or a Timing that brings its percentiles. */
export type Figure = number | Timing

/**
 * Microseconds per op: the mean of `batch` sequential ops (one round of one op), after `leadMs` of
 * untimed calls of the same op (see CompareOptions.leadMs).
 */
async function sample(op: Op, batch: number, leadMs = 0): Promise<number> {
  if (leadMs > 0) await warmUp(op, LEAD_CALLS, leadMs)
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

export interface CompareOptions {
  /** Calls per round and op (500). */
  batch?: number
  /** Timed rounds (21). */
  rounds?: number
  /** Warm-up calls per op, beside the WARMUP_MS floor (2000). */
  warmup?: number
  /**
   * Untimed calls of an op right before each of its timed rounds, for at least this many ms (and
   * LEAD_CALLS calls); 0 (the default) for none. For ops whose speed depends on the threads they
   * wake (a libuv pool thread, a worker's thread): the scheduler's placement of those threads is
   * left by whichever op ran before, survives an idle gap, and decided a round's time in the native
   * pass (docs/performance.md, "Round eight: the native pass's order effect"); a lead-in puts each
   * op back in its own steady state before it is timed. Both sides of every row get the same.
   */
  leadMs?: number
  /** A full collection before every round, outside its timing (off): each round starts from the same heap. */
  collectEachRound?: boolean
}

/** The fewest untimed calls of a lead-in (CompareOptions.leadMs). */
export const LEAD_CALLS = 10

/**
 * For echoes of 1 MiB or more: few calls per round (a round of a 1 MiB echo takes tens of ms, and
 * one collection or page-fault burst in it moves its mean), many rounds, so the median of the
 * paired ratios rests on 21 rounds rather than 7; and 40 warm-up calls, not 5: with 5 (and the
 * 250 ms floor), the first three rounds of the sidecars' 1 MiB rows still ran at 2–7× the paired
 * ratio of the rest (recorded runs, `first 3 / rest` of bench/spread.ts), in 3 of 7 rounds.
 */
export const BIG_PAYLOAD: CompareOptions = { batch: 4, rounds: 21, warmup: 40 }

/**
 * Measures several ops against each other in interleaved rounds (each op once per round, the
 * order alternating, see `roundOrder`), so that machine noise falls on all of them alike. Returns
 * µs per op (the median of its round means) in the order given, each with its round figures (for
 * the paired ratio of `row`) and p50/p99 of single calls from a separate, also interleaved, pass.
 */
export async function compare(ops: Op[], options: CompareOptions = {}): Promise<Timing[]> {
  const batch = options.batch ?? 500
  const rounds = options.rounds ?? 21
  collectGarbage()
  for (const op of ops) await warmUp(op, options.warmup ?? 2000)
  const samples: number[][] = ops.map(() => [])
  for (let r = 0; r < rounds; r++) {
    if (options.collectEachRound) collectGarbage()
    for (const i of roundOrder(ops.length, r)) samples[i]!.push(await sample(ops[i]!, batch, options.leadMs))
  }
  const single: number[][] = ops.map(() => [])
  const perOp = Math.min(2000, Math.max(20, Math.ceil((batch * rounds) / 5)))
  for (let r = 0; r < 4; r++) {
    for (const i of roundOrder(ops.length, r)) {
      if (options.leadMs) await warmUp(ops[i]!, LEAD_CALLS, options.leadMs)
      await latencies(ops[i]!, Math.ceil(perOp / 4), single[i]!)
    }
  }
  const pass = {}
  return samples.map((s, i) => ({ value: median(s), p50: percentile(single[i]!, 0.5), p99: percentile(single[i]!, 0.99), rounds: s, pass }))
}

/**
 * Calls per second with `inFlight` calls outstanding at all times (each lane awaits its call,
 * then starts the next) for `ms` per round, interleaved between ops like `compare` (order
 * alternating, heap collected first); the median of `rounds`, with the round figures for the
 * paired ratio. Percentiles are of single calls under that load, µs. Rounds are bounded in time,
 * not in calls, so that a slow transport at 256 in flight costs no more than a fast one.
 */
export async function throughput(ops: Op[], inFlight: number, options: { ms?: number; rounds?: number } = {}): Promise<Timing[]> {
  const ms = options.ms ?? 100
  const rounds = options.rounds ?? 11
  const rates: number[][] = ops.map(() => [])
  const single: number[][] = ops.map(() => [])
  collectGarbage()
  for (const op of ops) await drive(op, inFlight, Math.max(ms / 2, WARMUP_MS), []) // warm up, as compare does
  for (let r = 0; r < rounds; r++) {
    for (const i of roundOrder(ops.length, r)) rates[i]!.push(await drive(ops[i]!, inFlight, ms, single[i]!))
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

/** The row's ratio: paired where it can be, none where the baseline is at or below zero. */
function ratioOf(spread: ReturnType<typeof paired>, polyplug: number, baseline: number, unit: string): Pick<BenchRow, 'ratio' | 'ratio_note'> {
  if (spread) return { ratio: round(spread.ratio) }
  if (baseline > 0) return { ratio: round(polyplug / baseline) }
  return { ratio: null, ratio_note: `no ratio: the baseline reads ${round(baseline)} ${unit}, at or below zero, below what this measure resolves` }
}

/** `ratio` is polyplug / peer (the paired ratio where both were measured in one pass). */
function verdict(ratio: number, unit: string): string {
  const polyplugWins = higherIsBetter(unit) ? ratio >= 1 : ratio <= 1
  const factor = Math.max(ratio, 1 / ratio)
  const word = unit === 'MB' || unit === 'MiB' ? 'smaller' : 'faster'
  return `${polyplugWins ? 'polyplug' : 'peer'} ${round(factor)}× ${word}`
}

type RowFields = Omit<BenchRow, 'ratio' | 'metric' | 'unit' | 'polyplug' | 'baseline' | 'peer_value' | 'p50' | 'p99' | 'baseline_p50' | 'baseline_p99' | 'peer_verdict' | 'ratio_q1' | 'ratio_q3' | 'rounds'> &
  Partial<Pick<BenchRow, 'metric' | 'unit'>> & { polyplug: Figure; baseline: Figure; peer_value?: Figure }

/** Each row's per-round figures, for `--record FILE`: polyplug's and the baseline's, paired by round where they share a pass. */
export interface RoundsRecord {
  polyplug?: number[]
  baseline?: number[]
  paired: boolean
}
const recorded = new WeakMap<BenchRow, RoundsRecord>()
export const roundsOf = (r: BenchRow): RoundsRecord | undefined => recorded.get(r)

/**
 * A row from two figures (and a peer's). Where polyplug and the baseline were measured in the same
 * pass, the ratio is the median of their paired round ratios, with its quartiles and the number of
 * rounds; otherwise (start-up samples, MiB/s, bounds) it is polyplug / baseline.
 */
export function row(fields: RowFields): BenchRow {
  const unit = fields.unit ?? 'us'
  const polyplug = valueOf(fields.polyplug)
  const baseline = valueOf(fields.baseline)
  const spread = paired(fields.polyplug, fields.baseline)
  const percentiles = (prefix: '' | 'baseline_', f: Figure) => (typeof f === 'number' ? {} : { [`${prefix}p50`]: round(f.p50), [`${prefix}p99`]: round(f.p99) })
  const { peer_value: peerFigure, ...rest } = fields
  const peer = peerFigure === undefined ? undefined : valueOf(peerFigure)
  const result: BenchRow = {
    metric: 'round-trip',
    ...rest,
    unit,
    polyplug: round(polyplug),
    baseline: round(baseline),
    ...ratioOf(spread, polyplug, baseline, unit),
    ...(spread ? { ratio_q1: round(spread.q1), ratio_q3: round(spread.q3), rounds: spread.rounds } : {}),
    ...percentiles('', fields.polyplug),
    ...percentiles('baseline_', fields.baseline),
    ...(peer === undefined ? {} : { peer_value: round(peer), peer_verdict: verdict(paired(fields.polyplug, peerFigure)?.ratio ?? polyplug / peer, unit) }),
  }
  const p = typeof fields.polyplug === 'number' ? undefined : fields.polyplug
  const b = typeof fields.baseline === 'number' ? undefined : fields.baseline
  if (p?.rounds || b?.rounds) recorded.set(result, { polyplug: p?.rounds, baseline: b?.rounds, paired: p?.pass !== undefined && p.pass === b?.pass })
  return result
}
