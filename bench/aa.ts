/**
 * `node dist/bench/aa.js [PASSES] [--big [--variants 0,4]]`: the estimator's own error, an A/A test. Two identical raw
 * echoes (the raw unix echo child against a second one; the raw postMessage echo against a second
 * one) are measured against each other by `compare`, PASSES times (4). Their true ratio is 1, so
 * what each pass reads beyond 1 is the method's error at the machine's present load: printed per
 * pass as the ratio of the two medians (the bench's estimator up to round six) and the median of
 * the paired round ratios (round seven's), from the same rounds.
 * `--big` measures instead the raw unix echo of a 1 MiB frame against a second one, under each of
 * the options in BIG_VARIANTS (the 1 MiB rows' `BIG_PAYLOAD` first), the variants' passes
 * interleaved (variant 1, 2, …, then again) so that the load falls on them alike; per variant it
 * prints the paired ratio of each pass, their spread (min, max, median |log2 ratio|) and the
 * median IQR of a pass's round ratios.
 */
import { jsonCodec } from '../src/rpc/codec.js'
import { BIG_PAYLOAD, compare, median, pairedRatio, round, type CompareOptions, type Op } from './measure.js'
import { rawPort } from './port-peers.js'
import { rawEcho } from './cases/sidecar.js'

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
const subjects: [string, Op[]][] = [
  ['raw unix echo vs itself', [() => u1.call(small), () => u2.call(small)]],
  ['raw postMessage echo vs itself', [() => p1.echo(1), () => p2.echo(1)]],
]
try {
  for (const [name, ops] of subjects) {
    const medians: number[] = []
    const paired: number[] = []
    for (let k = 0; k < passes; k++) {
      const [a, b] = await compare(ops)
      medians.push(round(median(a!.rounds!) / median(b!.rounds!)))
      paired.push(round(pairedRatio(a!.rounds!, b!.rounds!)!.ratio))
    }
    process.stdout.write(`${name}: ratio of medians ${medians.join(' ')}; paired ${paired.join(' ')}\n`)
  }
} finally {
  await Promise.all([u1.close(), u2.close(), p1.close(), p2.close()])
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
