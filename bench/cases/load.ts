/**
 * What loading a plugin costs on its first call, in a fresh process: the TypeScript example
 * (transpiled on load, src/kinds/ts-hooks.ts) against the same interface in JavaScript, inline
 * and in a worker. Median of interleaved runs.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { median, row, type BenchRow } from '../measure.js'

const execFileAsync = promisify(execFile)
const child = fileURLToPath(new URL('../workers/first-call.js', import.meta.url))
const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const ROUNDS = 7

async function firstCall(folder: string, id: string): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, [child, `${examples}/${folder}`, id])
  return (JSON.parse(stdout) as { ms: number }).ms
}

export async function run(): Promise<BenchRow[]> {
  const pairs = [
    { placement: 'inline', ts: ['ts-inline', 'echo-ts-inline'], js: ['js-inline', 'echo-inline'] },
    { placement: 'worker', ts: ['ts-worker', 'echo-ts-worker'], js: ['js-worker', 'echo-worker'] },
  ] as const
  const rows: BenchRow[] = []
  for (const pair of pairs) {
    const ts: number[] = []
    const js: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      ts.push(await firstCall(pair.ts[0], pair.ts[1]))
      js.push(await firstCall(pair.js[0], pair.js[1]))
    }
    rows.push(row({ name: `first call, typescript ${pair.placement}`, kind: 'js', placement: pair.placement, transport: pair.placement === 'inline' ? 'direct' : 'port', metric: 'load + call', unit: 'ms', polyplug: median(ts), baseline: median(js) }))
  }
  return rows
}
