/**
 * `node dist/bench/aa.js [PASSES]`: the estimator's own error, an A/A test. Two identical raw
 * echoes (the raw unix echo child against a second one; the raw postMessage echo against a second
 * one) are measured against each other by `compare`, PASSES times (4). Their true ratio is 1, so
 * what each pass reads beyond 1 is the method's error at the machine's present load: printed per
 * pass as the ratio of the two medians (the bench's estimator up to round six) and the median of
 * the paired round ratios (round seven's), from the same rounds.
 */
import { jsonCodec } from '../src/rpc/codec.js'
import { compare, median, pairedRatio, round, type Op } from './measure.js'
import { rawPort } from './port-peers.js'
import { rawEcho } from './cases/sidecar.js'

const passes = Number(process.argv[2] ?? 4)
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
