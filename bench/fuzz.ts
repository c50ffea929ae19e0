/**
 * `npm run fuzz -- --seconds N [--seed S]`: the suite's fuzzer (test/support/fuzz.ts) for longer
 * runs. Prints the figures as JSON; exits 1 on an uncaught error, a dead host side or RSS growth
 * over 256 MiB. The seed defaults to the time, and is printed, so a failure can be replayed.
 */
import { parseArgs } from 'node:util'
import { fuzz } from '../test/support/fuzz.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' } } })
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed)
const seconds = Number(values.seconds)
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run fuzz -- [--seconds N] [--seed S]\n')
  process.exit(2)
}
process.stderr.write(`fuzz: seed ${seed}, ${seconds} s\n`)
const result = await fuzz({ seed, seconds })
process.stdout.write(`${JSON.stringify({ seed, seconds, ...result, uncaught: result.uncaught.length, rssGrowthMiB: Math.round(result.rssGrowthMiB) })}\n`)
for (const error of result.uncaught) process.stderr.write(`uncaught: ${error}\n`)
const ok = result.uncaught.length === 0 && result.aliveAfter && result.rssGrowthMiB < 256
process.exit(ok ? 0 : 1)
