/**
 * Per-method call statistics (src/host/stats.ts). A call over a channel is timed in full; a direct
 * call to an inline plugin is metered: counted exactly, timed for its first TIMED_FIRST calls and
 * then one in SAMPLE_EVERY, an untimed call entering the histogram with the latest timed latency —
 * so that the histogram still adds up to the calls — and the percentiles being those of the timed calls.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CallStats, LATENCY_BUCKETS_MS, SAMPLE_EVERY, TIMED_FIRST } from '../src/host/stats.js'

const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0)
/** Keeps the thread busy for `ms`: a call that measurably takes that long. */
const busy = (ms: number) => {
  const t0 = performance.now()
  while (performance.now() - t0 < ms);
}
const bucketOf = (ms: number) => LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound)

describe('call statistics', () => {
  it('counts every metered call and error exactly, and the histogram adds up to the calls', () => {
    const stats = new CallStats()
    const calls = TIMED_FIRST + 5 * SAMPLE_EVERY + 3
    for (let i = 0; i < calls; i++) stats.begin('echo').ended(i % 10 === 0 ? { code: 'E_TEN' } : undefined)
    const echo = stats.summary().echo!
    assert.equal(echo.calls, calls)
    assert.equal(echo.errors, Math.ceil(calls / 10))
    assert.deepEqual(echo.errorsByCode, { E_TEN: Math.ceil(calls / 10) })
    assert.equal(total(echo.latency.counts), calls)
    assert.equal(stats.overall().calls, calls)
    assert.equal(total(stats.overall().latency.counts), calls)
  })

  it('times the first calls of a method, then one in SAMPLE_EVERY; an untimed call carries the latest timed latency', () => {
    const stats = new CallStats()
    for (let i = 0; i < TIMED_FIRST; i++) stats.begin('work').ended()
    const before = stats.summary().work!.latency
    // Call number TIMED_FIRST is timed: it takes at least 3 ms (more on a loaded machine).
    const timed = stats.begin('work')
    busy(3)
    timed.ended()
    const mid = stats.summary().work!.latency
    const slowBucket = mid.counts.findIndex((n, i) => n !== before.counts[i])
    assert.ok(slowBucket >= bucketOf(3), `the timed call landed in bucket ${slowBucket}`)
    // The next SAMPLE_EVERY - 1 are not timed: they end at once but count with the held latency.
    for (let i = 1; i < SAMPLE_EVERY; i++) stats.begin('work').ended()
    const after = stats.summary().work!.latency
    assert.equal(after.counts[slowBucket]! - before.counts[slowBucket]!, SAMPLE_EVERY)
    assert.ok(after.sumMs - before.sumMs >= 3 * SAMPLE_EVERY, `sum grew by ${after.sumMs - before.sumMs} ms`)
    // The next one is timed again and quick: its latency replaces the held one.
    stats.begin('work').ended()
    stats.begin('work').ended()
    assert.equal(stats.summary().work!.latency.counts[slowBucket]! - before.counts[slowBucket]!, SAMPLE_EVERY)
  })

  it('counts the untimed calls whichever figure is read first: the total, or the methods', () => {
    for (const first of ['overall', 'summary'] as const) {
      const stats = new CallStats()
      const calls = TIMED_FIRST + 2 * SAMPLE_EVERY + 5
      for (let i = 0; i < calls; i++) stats.begin(i % 2 === 0 ? 'a' : 'b').ended()
      const overall = first === 'overall' ? stats.overall() : (stats.summary(), stats.overall())
      assert.equal(overall.calls, calls, first)
      assert.equal(total(overall.latency.counts), calls, first)
      const methods = stats.summary()
      assert.equal(methods.a!.calls + methods.b!.calls, calls, first)
      // Read again after more calls: the ones counted since are added, none twice.
      for (let i = 0; i < SAMPLE_EVERY; i++) stats.begin('a').ended()
      assert.equal(stats.overall().calls, calls + SAMPLE_EVERY, first)
      assert.equal(stats.summary().a!.calls + stats.summary().b!.calls, calls + SAMPLE_EVERY, first)
    }
  })

  it('takes the percentiles from the timed calls: untimed copies of a slow one do not fill the window', () => {
    const stats = new CallStats()
    for (let i = 0; i < TIMED_FIRST; i++) stats.begin('work').ended()
    // Four slow timed calls, each followed by its untimed copies: more copies than fast calls.
    const slow = 4
    assert.ok(slow * SAMPLE_EVERY > TIMED_FIRST && slow < TIMED_FIRST)
    for (let k = 0; k < slow; k++) {
      const timed = stats.begin('work')
      busy(3)
      timed.ended()
      for (let i = 1; i < SAMPLE_EVERY; i++) stats.begin('work').ended()
    }
    const work = stats.summary().work!
    assert.equal(work.calls, TIMED_FIRST + slow * SAMPLE_EVERY)
    assert.ok(work.p50 < 3, `p50 ${work.p50} ms: the fast timed calls are most of the window`)
    assert.ok(work.p99 >= 3, `p99 ${work.p99} ms: the slow ones are in it`)
    // The histogram weighs each slow call by its copies.
    assert.ok(total(work.latency.counts.slice(bucketOf(3))) >= slow * SAMPLE_EVERY)
  })

  it('a call timed in full (over a channel) is recorded with its own latency', () => {
    const stats = new CallStats()
    stats.record('echo', 7, 'E_X')
    const echo = stats.summary().echo!
    assert.deepEqual([echo.calls, echo.errors, echo.latency.sumMs, echo.latency.counts[bucketOf(7)]], [1, 1, 7, 1])
  })
})
