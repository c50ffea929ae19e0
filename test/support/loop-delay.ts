/** Event-loop delay while some work runs, as `perf_hooks.monitorEventLoopDelay` sees it. */
import { until } from './wait.js'
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface LoopDelay {
  /** 99th percentile of the event-loop delay, in ms. */
  p99: number
  max: number
  /**
   * 99th percentile of the CPU time the process spent in one turn of the event loop, in ms. Unlike
   * the delay, a machine busy with other processes does not add to it (a preempted turn spends
   * no CPU meanwhile): it is what the work itself blocks the loop for.
   */
  turnCpuP99: number
  /** Wall time of the work, in ms. */
  ms: number
}

/** Runs `work` with the event-loop delay monitor on (10 ms resolution), and the CPU of each turn measured. */
export async function loopDelayDuring(work: () => Promise<void>): Promise<LoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  const turns: number[] = []
  let running = true
  // One setImmediate per turn: the CPU the process spent between two of them is one turn's.
  let last = process.cpuUsage()
  const tick = () => {
    const now = process.cpuUsage()
    turns.push((now.user - last.user + now.system - last.system) / 1000)
    last = now
    if (running) setImmediate(tick)
  }
  setImmediate(tick)
  histogram.enable()
  const t0 = performance.now()
  try {
    await work()
    // One more histogram sample, so a stall at the very end is recorded too.
    const samples = histogram.count
    await until(() => histogram.count > samples)
  } finally {
    histogram.disable()
    running = false
  }
  turns.sort((a, b) => a - b)
  return {
    p99: histogram.percentile(99) / 1e6,
    max: histogram.max / 1e6,
    turnCpuP99: turns[Math.min(turns.length - 1, Math.floor(turns.length * 0.99))] ?? 0,
    ms: performance.now() - t0,
  }
}
