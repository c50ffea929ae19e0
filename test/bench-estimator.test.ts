/**
 * How the bench turns rounds into a row's ratio (bench/measure.ts; docs/performance.md, "Round
 * seven: how sure is a ratio"): the median of per-round paired ratios with their quartiles, the
 * order of the ops alternating from round to round, a collected heap before each pass; and the
 * spread tool that compares estimators on the same recorded rounds (bench/spread.ts). The figures
 * here are made up, so that each assertion knows its answer; timing lives in `npm run bench`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { collectGarbage, compare, median, pairedRatio, roundOrder, row, throughput, type Timing } from '../bench/measure.js'
import { breadth, spreadOf } from '../bench/spread.js'

const fields = { name: 'x', kind: 'js', placement: 'worker', transport: 'port' }
/** Timings of one pass: the same `pass` object, the rounds as given, the value their median. */
function pass(...rounds: number[][]): Timing[] {
  const shared = {}
  return rounds.map((r) => ({ value: median(r), p50: 1, p99: 2, rounds: r, pass: shared }))
}

describe('the ratio of a row measured in paired rounds', () => {
  // Rounds 3–5 of the baseline and 4–5 of polyplug ran under load: each side's median round saw a
  // different load (polyplug's a quiet one, the baseline's a loaded one).
  const polyplug = [10, 10, 10, 40, 40]
  const baseline = [5, 5, 20, 20, 20]

  it('is the median of the per-round ratios, not the ratio of the two medians', () => {
    assert.equal(median(polyplug) / median(baseline), 0.5)
    assert.deepEqual(pairedRatio(polyplug, baseline), { ratio: 2, q1: 2, q3: 2, rounds: 5 })
  })

  it('carries the quartiles of the per-round ratios and the number of rounds', () => {
    const spread = pairedRatio([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 1, 1, 1, 1])
    assert.deepEqual(spread, { ratio: 5, q1: 3, q3: 7, rounds: 8 })
  })

  it('is not paired when the sides measured different numbers of rounds, or none', () => {
    assert.equal(pairedRatio([1, 2], [1, 2, 3]), undefined)
    assert.equal(pairedRatio([], []), undefined)
  })

  it('is the row\'s ratio, with its quartiles and rounds, while polyplug and baseline stay each side\'s median round', () => {
    const [p, b] = pass(polyplug, baseline)
    const r = row({ ...fields, polyplug: p!, baseline: b! })
    assert.deepEqual([r.polyplug, r.baseline, r.ratio, r.ratio_q1, r.ratio_q3, r.rounds], [10, 20, 2, 2, 2, 5])
  })

  it('pairs only rounds of the same pass: figures from two passes, or plain numbers, give polyplug / baseline', () => {
    const [p] = pass(polyplug)
    const [b] = pass(baseline)
    const apart = row({ ...fields, polyplug: p!, baseline: b! })
    assert.deepEqual([apart.ratio, apart.ratio_q1, apart.rounds], [0.5, undefined, undefined])
    const plain = row({ ...fields, metric: 'startup', unit: 'ms', polyplug: 30, baseline: 20 })
    assert.deepEqual([plain.ratio, plain.ratio_q1], [1.5, undefined])
  })

  it('judges a peer the same way: the verdict comes from the paired rounds of polyplug and the peer', () => {
    // Polyplug's median round (10) is below the peer's (20), yet round by round polyplug is 2× slower.
    const [p, b, peer] = pass(polyplug, baseline, [5, 5, 20, 20, 20])
    assert.equal(row({ ...fields, polyplug: p!, baseline: b!, peer: 'birpc', peer_value: peer! }).peer_verdict, 'peer 2× faster')
    const [rate, rawRate, peerRate] = pass([100, 100, 100], [100, 100, 100], [50, 50, 50])
    assert.equal(row({ ...fields, unit: 'calls/s', polyplug: rate!, baseline: rawRate!, peer: 'birpc', peer_value: peerRate! }).peer_verdict, 'polyplug 2× faster')
  })
})

describe('the order of the ops in a pass', () => {
  it('is as given in even rounds and reversed in odd ones, so every op has the same mean position', () => {
    assert.deepEqual([0, 1, 2, 3].map((r) => roundOrder(3, r)), [[0, 1, 2], [2, 1, 0], [0, 1, 2], [2, 1, 0]])
    const position = (op: number) => [0, 1].reduce((sum, r) => sum + roundOrder(3, r).indexOf(op), 0)
    assert.deepEqual([0, 1, 2].map(position), [2, 2, 2])
  })

  it('is followed by compare: its timed rounds and its single-call pass alternate, and every op brings its rounds from one pass', async () => {
    const log: string[] = []
    // The warm-up runs for WARMUP_MS: keep the log short by dropping its head now and then.
    const op = (name: string) => () => log.push(name) > 1000 && log.splice(0, 500)
    const [a, b] = await compare([op('a'), op('b')], { batch: 1, rounds: 4, warmup: 1 })
    // The last 40 calls are the single-call pass (4 passes of 5 calls per op); the 8 before them the timed rounds.
    assert.deepEqual(log.slice(-48, -40), ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a'])
    const runs = log.slice(-40).filter((op, i, all) => op !== all[i - 1])
    assert.deepEqual(runs, ['a', 'b', 'a', 'b', 'a'], 'a b | b a | a b | b a, five calls each')
    assert.equal(a!.rounds!.length, 4)
    assert.equal(b!.rounds!.length, 4)
    assert.ok(a!.pass !== undefined && a!.pass === b!.pass)
  })

  it("leaves an op's round alone from the op before it when compare leads each round in (leadMs)", async () => {
    // Each op's first call after the other op ran takes 20 ms (a thread to wake, a cache to refill),
    // the rest 0.01 ms: on a clock of the test's own, which only the ops advance, so no round's
    // figure depends on the machine's load.
    let clock = 0
    let last = ''
    const op = (name: string) => async () => {
      clock += last !== name ? 20 : 0.01
      last = name
    }
    const realNow = performance.now
    performance.now = () => clock
    try {
      const options = { batch: 5, rounds: 4, warmup: 1 }
      // Without a lead-in a round that follows the other op holds its 20 ms call (4 ms per call on
      // average); one that follows the same op (first in its round, after itself) does not.
      const [a, b] = await compare([op('a'), op('b')], options)
      const slow = (rounds: number[]) => rounds.map((us) => us >= 4000)
      assert.deepEqual(slow(a!.rounds!), [true, true, false, true], `rounds ${a!.rounds}`)
      assert.deepEqual(slow(b!.rounds!), [true, false, true, false], `rounds ${b!.rounds}`)
      // With it that call falls in the untimed lead-in, and every round reads the op's own speed.
      const [c, d] = await compare([op('a'), op('b')], { ...options, leadMs: 1 })
      assert.ok([...c!.rounds!, ...d!.rounds!].every((us) => us < 4000), `rounds ${c!.rounds} / ${d!.rounds}`)
    } finally {
      performance.now = realNow
    }
  })

  it('is followed by throughput: the ops run in turn, then in reverse', async () => {
    const log: string[] = []
    const op = (name: string) => async () => {
      log.push(name)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const [a, b] = await throughput([op('a'), op('b')], 1, { ms: 5, rounds: 2 })
    // Warm-up a, warm-up b; round 0: a, b; round 1: b, a.
    assert.deepEqual(log.filter((name, i) => name !== log[i - 1]), ['a', 'b', 'a', 'b', 'a'])
    assert.ok(a!.rounds!.length === 2 && a!.pass === b!.pass)
  })
})

describe('a pass starts from a collected heap', () => {
  it('collects what the previous case left, without --expose-gc', async () => {
    let ref: WeakRef<object> | undefined
    ;(() => {
      ref = new WeakRef({ garbage: new Array(1000).fill(0) })
    })()
    await new Promise((resolve) => setImmediate(resolve))
    collectGarbage()
    assert.equal(ref!.deref(), undefined)
  })
})

describe('node dist/bench/spread.js: one row over several recorded runs', () => {
  const run = (p: number[], b: number[]) => [{ ...fields, metric: 'round-trip', unit: 'us', polyplug: 0, baseline: 0, ratio: 0, rounds_of: { polyplug: p, baseline: b, paired: true } }]

  it('gives min / median / max of each estimator from the same rounds, and the median IQR within a run', () => {
    const runs = [run([10, 10, 10, 40, 40], [5, 5, 20, 20, 20]), run([4, 4, 4], [2, 2, 2]), run([30, 30, 3], [10, 10, 1])]
    const [spread] = spreadOf(runs)
    assert.deepEqual(spread!.medians, [0.5, 2, 3])
    assert.deepEqual(spread!.paired, [2, 2, 3])
    assert.equal(breadth(spread!.medians), 6)
    assert.equal(breadth(spread!.paired), 1.5)
    assert.equal(spread!.iqr, 0)
    assert.equal(spread!.runs, 3)
  })

  it('sets the even rounds against the odd ones, and the first three against the rest', () => {
    // Even rounds 3×, odd rounds 2×; the first three rounds slower than the rest only on polyplug's side.
    const [spread] = spreadOf([run([30, 20, 30, 20, 30, 20, 30, 20], [10, 10, 10, 10, 10, 10, 10, 10])])
    assert.equal(spread!.evenOdd, 1.5)
    const [warm] = spreadOf([run([9, 9, 9, 3, 3, 3], [1, 1, 1, 1, 1, 1])])
    assert.equal(warm!.early, 3)
  })

  it('leaves out rows whose sides were not measured in the same rounds', () => {
    const unpaired = [{ ...run([1], [1])[0]!, rounds_of: { polyplug: [1], baseline: [1], paired: false } }]
    assert.deepEqual(spreadOf([unpaired]), [])
  })
})
