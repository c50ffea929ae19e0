/**
 * `node dist/bench/spread.js RUN.json...`: how far each row's ratio moves between runs, by
 * estimator, from runs recorded with `npm run bench -- --record RUN.json`. Both estimators are
 * computed from the same recorded rounds, so the comparison does not depend on the load the runs
 * saw:
 *
 * - `medians`: the median polyplug round over the median baseline round (the bench's ratio up to
 *   round six);
 * - `paired`: the median of the per-round ratios polyplug / baseline (round seven's, `row`).
 *
 * Per row it prints, over the runs, min / median / max of each estimator, and the median of the
 * runs' own interquartile ranges of the paired ratios (how sure one run is of its ratio). Two more
 * columns look for sources of spread inside the runs, as medians over the runs: `even / odd`, the
 * paired ratio of the even rounds over that of the odd ones (from round seven on, the order of
 * the ops is reversed in odd rounds, so this is what running first costs or gains), and
 * `first 3 / rest`, the paired ratio of the first three rounds over that of the others (a warm-up
 * too short shows here).
 * `--rows REGEX` keeps the rows whose "name (metric)" matches.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatTable } from '../src/cli/table.js'
import { median, pairedRatio, round, type BenchRow, type RoundsRecord } from './measure.js'

type Recorded = BenchRow & { rounds_of?: RoundsRecord }

export interface RowSpread {
  row: string
  runs: number
  medians: [number, number, number]
  paired: [number, number, number]
  /** Median over the runs of each run's paired-ratio interquartile range (q3 − q1). */
  iqr: number
  /** Median over the runs of (paired ratio of even rounds) / (paired ratio of odd rounds). */
  evenOdd: number
  /** Median over the runs of (paired ratio of the first three rounds) / (paired ratio of the rest). */
  early: number
}

const span = (values: number[]): [number, number, number] => [Math.min(...values), median(values), Math.max(...values)]

/** The spread of each paired row over `runs` (each a run's recorded rows), in the order rows first appear. */
export function spreadOf(runs: Recorded[][]): RowSpread[] {
  const byRow = new Map<string, { medians: number[]; paired: number[]; iqr: number[]; evenOdd: number[]; early: number[] }>()
  for (const rows of runs) {
    const seen = new Set<string>()
    for (const r of rows) {
      const key = r.metric === 'round-trip' ? r.name : `${r.name} (${r.metric})`
      const rec = r.rounds_of
      if (seen.has(key) || !rec?.paired || !rec.polyplug || !rec.baseline) continue
      seen.add(key)
      const p = pairedRatio(rec.polyplug, rec.baseline)
      if (!p) continue
      const entry = byRow.get(key) ?? { medians: [], paired: [], iqr: [], evenOdd: [], early: [] }
      byRow.set(key, entry)
      entry.medians.push(median(rec.polyplug) / median(rec.baseline))
      entry.paired.push(p.ratio)
      entry.iqr.push(p.q3 - p.q1)
      const ratios = rec.polyplug.map((x, i) => x / rec.baseline![i]!)
      const of = (keep: (i: number) => boolean) => median(ratios.filter((_, i) => keep(i)))
      if (ratios.length >= 2) entry.evenOdd.push(of((i) => i % 2 === 0) / of((i) => i % 2 === 1))
      if (ratios.length >= 6) entry.early.push(of((i) => i < 3) / of((i) => i >= 3))
    }
  }
  return [...byRow].map(([row, e]) => ({ row, runs: e.paired.length, medians: span(e.medians), paired: span(e.paired), iqr: median(e.iqr), evenOdd: median(e.evenOdd), early: median(e.early) }))
}

/** max / min of a span: how many times over the highest run's ratio is the lowest's. */
export const breadth = ([lo, , hi]: [number, number, number]) => hi / lo

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rows: { type: 'string' } } })
  const runs = await Promise.all(positionals.map(async (file) => (JSON.parse(await readFile(file, 'utf8')) as { rows: Recorded[] }).rows))
  const only = values.rows ? new RegExp(values.rows) : undefined
  const spreads = spreadOf(runs).filter((s) => !only || only.test(s.row))
  const fmt = (s: [number, number, number]) => s.map((x) => round(x)).join(' / ')
  const show = (x: number) => (Number.isNaN(x) ? '—' : String(round(x)))
  const cols = ['row', 'runs', 'medians: min / median / max', 'breadth', 'paired: min / median / max', 'breadth', 'IQR in a run', 'even / odd', 'first 3 / rest']
  const cells = (s: RowSpread) => [s.row, String(s.runs), fmt(s.medians), String(round(breadth(s.medians))), fmt(s.paired), String(round(breadth(s.paired))), String(round(s.iqr)), show(s.evenOdd), show(s.early)]
  process.stdout.write(formatTable(cols, spreads.map(cells)))
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
