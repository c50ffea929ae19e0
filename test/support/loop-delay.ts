/** Event-loop delay while some work runs, as `perf_hooks.monitorEventLoopDelay` sees it. */
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface LoopDelay {
  /** 99th percentile of the event-loop delay, in ms. */
  p99: number
  max: number
  /** Wall time of the work, in ms. */
  ms: number
}

/** Runs `work` with the event-loop delay monitor on (10 ms resolution). */
export async function loopDelayDuring(work: () => Promise<void>): Promise<LoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  const t0 = performance.now()
  try {
    await work()
    // One more turn, so a stall at the very end is sampled too.
    await new Promise((resolve) => setTimeout(resolve, 20))
  } finally {
    histogram.disable()
  }
  return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6, ms: performance.now() - t0 }
}
