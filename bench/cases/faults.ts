/**
 * Fault bounds from issue 14, as figures against their bounds ("baseline" is the bound, so a ratio
 * under 1 meets it): the event-loop delay (p99, ms) while a stalled plugin's 100,000 queued writes
 * are released; the RSS growth and loop delay while 200,000 events are published without awaiting.
 * The loop delay of an idle loop spinning for 3 s is reported too: on a shared machine it is
 * the floor under every delay figure. So is the CPU time of the longest turns (p99), which other
 * processes on the machine do not inflate: polyplug's own share of the delay. Median of a few
 * runs; the suite asserts generous versions.
 */
import { floodEvents, stopWithQueuedWrites } from '../../test/support/faults.js'
import { loopDelayDuring } from '../../test/support/loop-delay.js'
import { median, row, type BenchRow } from '../measure.js'

const RUNS = 3
const BOUND_MS = 50

export async function run(): Promise<BenchRow[]> {
  const stall = []
  for (let i = 0; i < RUNS; i++) stall.push(await stopWithQueuedWrites(100_000))
  const flood = []
  for (let i = 0; i < RUNS; i++) flood.push(await floodEvents(200_000))
  const idle = []
  for (let i = 0; i < RUNS; i++) idle.push(await loopDelayDuring(spin))
  const process = { kind: 'js', placement: 'process', transport: 'stdio', unit: 'ms' }
  return [
    row({ name: 'idle event loop (machine noise)', ...process, kind: '-', placement: '-', transport: '-', metric: 'loop delay p99 (bound)', polyplug: median(idle.map((d) => d.p99)), baseline: BOUND_MS }),
    row({ name: 'idle event loop (machine noise)', ...process, kind: '-', placement: '-', transport: '-', metric: 'turn CPU p99 (bound)', polyplug: median(idle.map((d) => d.turnCpuP99)), baseline: BOUND_MS }),
    row({ name: 'publish 200,000 events without awaiting', ...process, metric: 'loop delay p99 (bound)', polyplug: median(flood.map((f) => f.p99)), baseline: BOUND_MS }),
    row({ name: 'publish 200,000 events without awaiting', ...process, metric: 'turn CPU p99 (bound)', polyplug: median(flood.map((f) => f.turnCpuP99)), baseline: BOUND_MS }),
    row({ name: 'publish 200,000 events without awaiting', ...process, metric: 'RSS growth (bound)', unit: 'MiB', polyplug: median(flood.map((f) => f.rssGrowthMiB)), baseline: 64 }),
    row({ name: 'stop a plugin with 100,000 queued writes', kind: 'exec', placement: 'process', transport: 'stdio', metric: 'loop delay p99 (bound)', unit: 'ms', polyplug: median(stall.map((d) => d.p99)), baseline: BOUND_MS }),
    row({ name: 'stop a plugin with 100,000 queued writes', kind: 'exec', placement: 'process', transport: 'stdio', metric: 'turn CPU p99 (bound)', unit: 'ms', polyplug: median(stall.map((d) => d.turnCpuP99)), baseline: BOUND_MS }),
  ]
}

/** Three seconds of turns that do nothing. */
async function spin(): Promise<void> {
  const end = Date.now() + 3000
  while (Date.now() < end) await new Promise((resolve) => setImmediate(resolve))
}
