/**
 * Queues that a slow or stalled plugin could grow without bound are bounded: the Peer's outgoing
 * queue and event publishing refuse with CHANNEL_FULL past their documented limits, keeping the
 * host's memory and event loop in bounds. The tests check the bounds by count; the event-loop delay
 * they keep is measured by `npm run bench -- --only faults`.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { EVENTS_IN_FLIGHT, EVENTS_QUEUED } from '../src/host/events.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { DEFAULT_MAX_QUEUED_MESSAGES, Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { floodEvents } from './support/faults.js'
import { fixturesDir } from './support/paths.js'

describe("the Peer's outgoing queue", () => {
  it('refuses sends with CHANNEL_FULL once the limit of messages waits for a plugin that stopped reading', async () => {
    const child = spawn('sleep', ['600'], { stdio: ['pipe', 'pipe', 'ignore'] })
    await once(child, 'spawn')
    try {
      const peer = new Peer(streamChannel(child.stdout!, child.stdin!), { name: 'stalled' })
      const outcomes = await Promise.allSettled(
        Array.from({ length: DEFAULT_MAX_QUEUED_MESSAGES * 3 }, (_, i) => Promise.race([peer.notify('tick', [i, 'x'.repeat(100)]), new Promise((r) => setImmediate(() => r('queued')))])),
      )
      const full = outcomes.filter((o) => o.status === 'rejected' && (o.reason as PolyplugError).code === 'CHANNEL_FULL')
      const queued = outcomes.filter((o) => o.status === 'fulfilled' && o.value === 'queued')
      assert.ok(full.length >= DEFAULT_MAX_QUEUED_MESSAGES, `refused ${full.length}`)
      assert.ok(queued.length <= DEFAULT_MAX_QUEUED_MESSAGES, `at most the limit waits (${queued.length})`)
      assert.match(((full[0] as PromiseRejectedResult).reason as Error).message, /already wait for the other side to read/)
      await rejectsFull(peer.call('x'))
      await peer.close()
    } finally {
      child.kill('SIGKILL')
    }
  })
})

async function rejectsFull(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof PolyplugError && e.code === 'CHANNEL_FULL')
}

describe('events.publish', () => {
  it('a publisher that awaits is never refused', async () => {
    const host = await createHost({ plugins: [`${fixturesDir}/flood`], logger: () => {} })
    try {
      for (let i = 0; i < EVENTS_IN_FLIGHT + EVENTS_QUEUED + 100; i++) assert.equal(await host.events.publish('tick', i), 1)
      assert.equal(await host.plugin('flood-listener').call('received'), EVENTS_IN_FLIGHT + EVENTS_QUEUED + 100)
    } finally {
      await host.close()
    }
  })

  it('200,000 events published without awaiting: the excess is refused with CHANNEL_FULL, no more than the limits wait, host memory stays bounded', async () => {
    const result = await floodEvents(200_000)
    assert.equal(result.failed, 0)
    assert.equal(result.delivered + result.full, 200_000)
    assert.ok(result.delivered >= EVENTS_IN_FLIGHT + EVENTS_QUEUED, `delivered ${result.delivered}`)
    assert.ok(result.full > 0)
    assert.ok(result.rssGrowthMiB <= 64, `RSS grew ${result.rssGrowthMiB.toFixed(1)} MiB (bound 64 MiB)`)
    // Unbounded, this would be the ~1000 publishes of every slice, piling up slice after slice.
    assert.ok(result.maxOutstanding <= EVENTS_IN_FLIGHT + EVENTS_QUEUED, `${result.maxOutstanding} publishes waited at once (limits ${EVENTS_IN_FLIGHT} + ${EVENTS_QUEUED})`)
  })
})
