/**
 * `polyplug call` from a cold start, against a bare `node -e 0` in the same interleaved rounds:
 * - on an unstartable stdio plugin (a missing command): time until the CLI exits 1 with the OS
 *   error; the goal is under 1 s (issue 14);
 * - on a working Python echo over stdio: time until it printed the answer and exited.
 * Median of interleaved runs, in ms. test/cli-startup.test.ts checks what the CLI loads; the
 * time itself is only measured here.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { median, row, type BenchRow } from '../measure.js'

const cli = fileURLToPath(new URL('../../../bin/polyplug.js', import.meta.url))
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url))
const ROUNDS = 7

function timed(args: string[], expectCode: number): () => Promise<number> {
  return () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now()
      const child = execFile(process.execPath, args, { timeout: 60_000 }, (_error, _stdout, stderr) => {
        if (child.exitCode !== expectCode) reject(new Error(`${args.join(' ')}: exit ${child.exitCode}, expected ${expectCode}: ${stderr}`))
        else resolve(performance.now() - t0)
      })
    })
}

export async function run(): Promise<BenchRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'polyplug-bench-cli-'))
  try {
    await mkdir(join(root, 'missing'))
    const manifest = { id: 'missing', version: '1.0.0', kind: 'exec', entry: 'polyplug.json', placement: 'process', transport: 'stdio', sidecar: { command: ['./no-such-program'] } }
    await writeFile(join(root, 'missing', 'polyplug.json'), JSON.stringify(manifest))
    const runs = [
      timed(['-e', '0'], 0),
      timed([cli, 'call', '--plugins', root, 'missing', 'x'], 1),
      timed([cli, 'call', '--plugins', join(examples, 'python-stdio'), 'python-stdio', 'echo', '["hi"]'], 0),
    ]
    for (const once of runs) await once() // warm the file-system cache
    const samples: number[][] = runs.map(() => [])
    for (let r = 0; r < ROUNDS; r++) for (const [i, once] of runs.entries()) samples[i]!.push(await once())
    const [bare, unstartable, echo] = samples.map(median) as [number, number, number]
    const fields = { kind: 'exec', placement: 'process', transport: 'stdio', metric: 'cold start', unit: 'ms', baseline: bare }
    return [
      row({ ...fields, name: 'cli call, unstartable plugin (goal < 1000 ms)', polyplug: unstartable }),
      row({ ...fields, name: 'cli call, python echo', polyplug: echo }),
    ]
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
