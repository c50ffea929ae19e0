/**
 * Fault scenarios measured by both the suite (with a generous bound) and `npm run bench -- --only
 * faults` (the precise figure): a plugin that stops reading, a publisher that floods.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createHost } from '../../src/host/host.js'
import { streamChannel } from '../../src/transports/stream.js'
import { fixturesDir } from './paths.js'
import { loopDelayDuring, type LoopDelay } from './loop-delay.js'
import { until } from './wait.js'

export interface QueuedWritesResult extends LoopDelay {
  /** Sends that had to wait behind the full pipe. */
  queued: number
  /** Waiting sends that settled once the channel closed. */
  released: number
  /** Most waiting sends settled between two turns of the event loop (a setImmediate each). */
  maxReleasedPerTurn: number
}

/**
 * Writes `count` frames to a real process that never reads its stdin, then closes the channel
 * and kills the process: the event-loop delay while the queued writes are released, and how many
 * were released per event-loop turn (a count, which a loaded machine does not change).
 */
export async function stopWithQueuedWrites(count: number): Promise<QueuedWritesResult> {
  const child = spawn('sleep', ['60'], { stdio: ['pipe', 'pipe', 'ignore'] })
  await once(child, 'spawn')
  const channel = streamChannel(child.stdout!, child.stdin!)
  const message = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', method: 'tick', params: ['x'.repeat(40)] }))
  const sends: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const sent = channel.send(message)
    if (sent) sends.push(sent)
  }
  const queued = sends.length
  let released = 0
  let thisTurn = 0
  let maxReleasedPerTurn = 0
  for (const sent of sends) void sent.then(() => (released++, thisTurn++))
  let turning = true
  const turn = () => {
    maxReleasedPerTurn = Math.max(maxReleasedPerTurn, thisTurn)
    thisTurn = 0
    if (turning) setImmediate(turn)
  }
  setImmediate(turn)
  const delay = await loopDelayDuring(async () => {
    await channel.close()
    child.kill('SIGKILL')
    await Promise.all(sends)
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  })
  turning = false
  turn()
  return { ...delay, queued, released, maxReleasedPerTurn }
}

export interface FloodResult extends LoopDelay {
  published: number
  delivered: number
  /** Publishes refused with CHANNEL_FULL. */
  full: number
  /** Publishes that failed otherwise. */
  failed: number
  /** Highest RSS seen during the flood minus RSS before it, in MiB. */
  rssGrowthMiB: number
  /** Most publishes not yet settled at any yield to the event loop (refusals settle at once). */
  maxOutstanding: number
}

/**
 * Publishes `count` events to a process plugin's listener as fast as the API allows: without
 * awaiting, yielding to the event loop every `yieldEvery` publishes. Refusals (CHANNEL_FULL) count.
 */
export async function floodEvents(count: number, yieldEvery = 1000): Promise<FloodResult> {
  const host = await createHost({ plugins: [`${fixturesDir}/flood`], logger: () => {} })
  try {
    await host.events.publish('tick', 'warm-up')
    const before = process.memoryUsage.rss()
    let peak = before
    let delivered = 0
    let full = 0
    let failed = 0
    let settled = 0
    let maxOutstanding = 0
    const delay = await loopDelayDuring(async () => {
      const settle = () => settled++
      for (let i = 0; i < count; i++) {
        host.events.publish('tick', { i }).then(
          () => {
            delivered++
            settle()
          },
          (error: { code?: string }) => {
            if (error.code === 'CHANNEL_FULL') full++
            else failed++
            settle()
          },
        )
        if (i % 10_000 === 0) peak = Math.max(peak, process.memoryUsage.rss())
        if (i % yieldEvery === yieldEvery - 1) {
          await new Promise((resolve) => setImmediate(resolve))
          maxOutstanding = Math.max(maxOutstanding, i + 1 - settled)
        }
      }
      // Every publish settles (delivered or refused): a publish left hanging fails here, naming it.
      await until(
        () => {
          peak = Math.max(peak, process.memoryUsage.rss())
          return settled === count
        },
        300_000,
        `all ${count} publishes settled`,
      )
    })
    return { ...delay, published: count, delivered, full, failed, rssGrowthMiB: (peak - before) / 2 ** 20, maxOutstanding }
  } finally {
    await host.close()
  }
}
