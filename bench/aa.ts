/**
 * `node dist/bench/aa.js [PASSES] [--big [--variants 0,4]]`: the estimator's own error, an A/A test. Two identical raw
 * echoes (the raw unix echo child against a second one; the raw postMessage echo against a second
 * one) are measured against each other by `compare`, PASSES times (4). Their true ratio is 1, so
 * what each pass reads beyond 1 is the method's error at the machine's present load: printed per
 * pass as the ratio of the two medians (the bench's estimator up to round six) and the median of
 * the paired round ratios (round seven's), from the same rounds.
 *
 * The native pass (bench/cases/native.ts) is checked inside itself: its four ops plus a second raw
 * koffi `.async` echo, which is compared with the row's baseline (the first one) in the same pass,
 * with the case's options and without its lead-in, the two alternating pass by pass. Besides the
 * ratios it prints `even / odd`: the paired ratio of the even rounds (ops in the given order) over
 * that of the odd ones (reversed), ≈ 1 when an op's time does not depend on which op ran before it.
 *
 * `--big` measures instead the raw unix echo of a 1 MiB frame against a second one, under each of
 * the options in BIG_VARIANTS (the 1 MiB rows' `BIG_PAYLOAD` first), the variants' passes
 * interleaved (variant 1, 2, …, then again) so that the load falls on them alike; per variant it
 * prints the paired ratio of each pass, their spread (min, max, median |log2 ratio|) and the
 * median IQR of a pass's round ratios.
 */
import { fileURLToPath } from 'node:url'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { jsonCodec } from '../src/rpc/codec.js'
import { BIG_PAYLOAD, compare, median, pairedRatio, round, type CompareOptions, type Op } from './measure.js'
import { rawPort } from './port-peers.js'
import { rawEcho } from './cases/sidecar.js'
import { NATIVE_PASS, rawEcho as rawKoffi } from './cases/native.js'

interface Subject {
  name: string
  ops: Op[]
  /** The two ops compared (A against B): the first two unless given. */
  pair?: [number, number]
  options?: CompareOptions
}

/** Ways to measure a 1 MiB row, each tried on the same A/A pair. */
const BIG_VARIANTS: [string, CompareOptions][] = [
  ['BIG_PAYLOAD (4 calls × 21 rounds, 40 warm-up)', BIG_PAYLOAD],
  ['+ a collection before each round', { ...BIG_PAYLOAD, collectEachRound: true }],
  ['12 calls × 7 rounds', { ...BIG_PAYLOAD, batch: 12, rounds: 7 }],
  ['+ 120 warm-up calls', { ...BIG_PAYLOAD, warmup: 120 }],
  ['2 calls × 42 rounds', { ...BIG_PAYLOAD, batch: 2, rounds: 42 }],
  ['1 call × 84 rounds', { ...BIG_PAYLOAD, batch: 1, rounds: 84 }],
]
/** `--variants 0,4,5`: only those of BIG_VARIANTS (all by default). */
const chosen = process.argv.includes('--variants') ? new Set((process.argv[process.argv.indexOf('--variants') + 1] ?? '').split(',').map(Number)) : undefined

const passes = Number(process.argv[2]?.match(/^\d+$/) ? process.argv[2] : 4)
if (process.argv.includes('--big')) {
  await bigAa()
  process.exit(0)
}
const small = jsonCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
const [u1, u2] = [await rawEcho('unix'), await rawEcho('unix')]
const [p1, p2] = [rawPort(), rawPort()]
const examples = fileURLToPath(new URL('../../examples', import.meta.url))
const host = await createHost({ plugins: [examples], logger: silentLogger })
const inline = host.plugin('native-c-inline')
const worker = host.plugin('native-c-worker')
await Promise.all([inline.activate(), worker.activate()])
const [k1, k2, kSync] = [rawKoffi(false), rawKoffi(false), rawKoffi(true)]
// The native case's pass, its baseline (index 2) against a twin appended last.
const nativePass: Op[] = [() => inline.call('echo', [1]), () => worker.call('echo', [1]), () => k1(1), () => kSync(1), () => k2(1)]
const subjects: Subject[][] = [
  [{ name: 'raw unix echo vs itself', ops: [() => u1.call(small), () => u2.call(small)] }],
  [{ name: 'raw postMessage echo vs itself', ops: [() => p1.echo(1), () => p2.echo(1)] }],
  [
    { name: 'raw koffi .async vs itself, native pass', ops: nativePass, pair: [4, 2], options: NATIVE_PASS },
    { name: 'raw koffi .async vs itself, native pass without lead-in', ops: nativePass, pair: [4, 2], options: { ...NATIVE_PASS, leadMs: 0 } },
  ],
]
const evenOdd = (a: number[], b: number[]) => {
  const even = pairedRatio(a.filter((_, i) => i % 2 === 0), b.filter((_, i) => i % 2 === 0))!
  const odd = pairedRatio(a.filter((_, i) => i % 2 === 1), b.filter((_, i) => i % 2 === 1))!
  return round(even.ratio / odd.ratio)
}
try {
  for (const group of subjects) {
    const results = group.map(() => ({ medians: [] as number[], paired: [] as number[], evenOdd: [] as number[] }))
    for (let k = 0; k < passes; k++) {
      for (const [s, subject] of group.entries()) {
        const timings = await compare(subject.ops, subject.options)
        const [ia, ib] = subject.pair ?? [0, 1]
        const a = timings[ia]!.rounds!
        const b = timings[ib]!.rounds!
        results[s]!.medians.push(round(median(a) / median(b)))
        results[s]!.paired.push(round(pairedRatio(a, b)!.ratio))
        results[s]!.evenOdd.push(evenOdd(a, b))
      }
    }
    for (const [s, { name }] of group.entries()) {
      const r = results[s]!
      process.stdout.write(`${name}: ratio of medians ${r.medians.join(' ')}; paired ${r.paired.join(' ')}; even / odd ${r.evenOdd.join(' ')}\n`)
    }
  }
} finally {
  await Promise.all([u1.close(), u2.close(), p1.close(), p2.close(), host.close()])
}

async function bigAa(): Promise<void> {
  const MiB = 1 << 20
  const frame = new Uint8Array(MiB).map((_, i) => i & 255)
  const [a, b] = [await rawEcho('unix'), await rawEcho('unix')]
  const ops: Op[] = [() => a.call(frame), () => b.call(frame)]
  const paired: number[][] = BIG_VARIANTS.map(() => [])
  const iqr: number[][] = BIG_VARIANTS.map(() => [])
  try {
    for (let k = 0; k < passes; k++) {
      for (const [v, [, options]] of BIG_VARIANTS.entries()) {
        if (chosen && !chosen.has(v)) continue
        const [x, y] = await compare(ops, options)
        const r = pairedRatio(x!.rounds!, y!.rounds!)!
        paired[v]!.push(round(r.ratio))
        iqr[v]!.push(r.q3 / r.q1)
      }
    }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
  for (const [v, [name]] of BIG_VARIANTS.entries()) {
    if (chosen && !chosen.has(v)) continue
    const ratios = paired[v]!
    const error = median(ratios.map((r) => Math.abs(Math.log2(r))))
    process.stdout.write(`raw unix 1 MiB echo vs itself, ${name}: paired ${ratios.join(' ')}; min ${Math.min(...ratios)} max ${Math.max(...ratios)} median |log2| ${round(error, 3)}; median q3/q1 ${round(median(iqr[v]!))}\n`)
  }
}
