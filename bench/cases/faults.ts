/**
 * Fault bounds from issue 14, as figures: the event-loop delay (p99, ms) while a stalled plugin's
 * 100,000 queued writes are released, against the 50 ms bound ("baseline" is the bound, so a
 * ratio under 1 meets it). Median of a few runs; the suite asserts a generous version of each.
 */
import { stopWithQueuedWrites } from '../../test/support/faults.js'
import { median, row, type BenchRow } from '../measure.js'

const RUNS = 3
const BOUND_MS = 50

export async function run(): Promise<BenchRow[]> {
  const stall: number[] = []
  for (let i = 0; i < RUNS; i++) stall.push((await stopWithQueuedWrites(100_000)).p99)
  return [
    row({ name: 'stop a plugin with 100,000 queued writes', kind: 'exec', placement: 'process', transport: 'stdio', metric: 'loop delay p99 (bound)', unit: 'ms', polyplug: median(stall), baseline: BOUND_MS }),
  ]
}
