/**
 * What loading a plugin costs on its first call, in a fresh process: the TypeScript example
 * (transpiled on load, src/kinds/ts-hooks.ts; with the transpile cache off, then warm) against
 * the same interface in JavaScript, inline and in a worker. Median of interleaved runs.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { median, row, type BenchRow } from '../measure.js'

const execFileAsync = promisify(execFile)
const child = fileURLToPath(new URL('../workers/first-call.js', import.meta.url))
const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const ROUNDS = 7

async function firstCall(folder: string, id: string, env: Record<string, string> = {}): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, [child, `${examples}/${folder}`, id], { env: { ...process.env, ...env } })
  return (JSON.parse(stdout) as { ms: number }).ms
}

export async function run(): Promise<BenchRow[]> {
  const pairs = [
    { placement: 'inline', ts: ['ts-inline', 'echo-ts-inline'], js: ['js-inline', 'echo-inline'] },
    { placement: 'worker', ts: ['ts-worker', 'echo-ts-worker'], js: ['js-worker', 'echo-worker'] },
  ] as const
  const rows: BenchRow[] = []
  for (const pair of pairs) {
    const cold: number[] = []
    const warm: number[] = []
    const js: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      cold.push(await firstCall(pair.ts[0], pair.ts[1], { POLYPLUG_TS_CACHE: 'off' }))
      warm.push(await firstCall(pair.ts[0], pair.ts[1]))
      js.push(await firstCall(pair.js[0], pair.js[1]))
    }
    const transport = pair.placement === 'inline' ? 'direct' : 'port'
    const fields = { kind: 'js', placement: pair.placement, transport, metric: 'load + call', unit: 'ms', baseline: median(js) }
    rows.push(row({ name: `first call, typescript ${pair.placement}, transpiled`, ...fields, polyplug: median(cold) }))
    rows.push(row({ name: `first call, typescript ${pair.placement}, from the cache`, ...fields, polyplug: median(warm) }))
  }
  return rows
}
