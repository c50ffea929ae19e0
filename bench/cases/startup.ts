/**
 * Host start with 0, 100 and 1,000 installed plugins (generated in a temp dir), none activated.
 * Two measures, each against the 0-plugin host:
 * - `host start, N plugins`: a fresh Node process from spawn until its host is up and closed
 *   (what an application's start-up pays), median of interleaved runs.
 * - `host discover, N plugins`: createHost + close inside a warm process (discovery, validation
 *   and resolution alone), median of interleaved runs.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { median, row, type BenchRow } from '../measure.js'

const run = promisify(execFile)
const child = fileURLToPath(new URL('../workers/start-host.js', import.meta.url))
const COUNTS = [0, 100, 1000] as const

/** Writes `count` plugins with realistic manifests: commands, settings, activation events, some dependencies. */
export async function generatePlugins(root: string, count: number): Promise<void> {
  await mkdir(root, { recursive: true })
  for (let i = 0; i < count; i++) {
    const id = `plugin-${String(i).padStart(4, '0')}`
    const dir = join(root, id)
    await mkdir(dir)
    const manifest = {
      id,
      version: '1.0.0',
      kind: 'js',
      entry: 'index.js',
      placement: i % 2 === 0 ? 'inline' : 'worker',
      engines: { polyplug: '^0.1.0' },
      activation: [`onCommand:${id}.run`],
      contributes: {
        commands: [{ id: `${id}.run`, title: `Run ${id}` }],
        configuration: { level: { type: 'integer', minimum: 0, default: 1 }, name: { type: 'string', default: id } },
      },
      ...(i % 10 === 9 ? { dependencies: { [`plugin-${String(i - 1).padStart(4, '0')}`]: '^1.0.0' } } : {}),
      permissions: { host: ['storage'] },
    }
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify(manifest, null, 2))
    await writeFile(join(dir, 'index.js'), `throw new Error('${id} must not load during start-up')\n`)
  }
}

async function processStart(root: string): Promise<number> {
  const t0 = performance.now()
  const { stdout } = await run(process.execPath, [child, root])
  const elapsed = performance.now() - t0
  JSON.parse(stdout)
  return elapsed
}

async function inProcessStart(root: string): Promise<number> {
  const t0 = performance.now()
  const host = await createHost({ plugins: [root], logger: silentLogger })
  const elapsed = performance.now() - t0
  if (host.list().some((p) => p.status !== 'inactive')) throw new Error('a plugin started during start-up')
  await host.close()
  return elapsed
}

async function measure(roots: string[], once: (root: string) => Promise<number>, rounds: number): Promise<number[]> {
  for (const root of roots) await once(root) // warm the file-system cache
  const samples: number[][] = roots.map(() => [])
  for (let r = 0; r < rounds; r++) for (const [i, root] of roots.entries()) samples[i]!.push(await once(root))
  return samples.map(median)
}

export async function run_(): Promise<BenchRow[]> {
  const base = await mkdtemp(join(tmpdir(), 'polyplug-startup-'))
  try {
    const roots = COUNTS.map((n) => join(base, `n${n}`))
    for (const [i, n] of COUNTS.entries()) await generatePlugins(roots[i]!, n)
    const spawned = await measure(roots, processStart, 9)
    const warm = await measure(roots, inProcessStart, 15)
    const rows: BenchRow[] = []
    const fields = { kind: 'js', placement: '-', transport: '-', metric: 'startup', unit: 'ms' }
    for (const [i, n] of COUNTS.entries()) rows.push(row({ ...fields, name: `host start, ${n} plugins`, polyplug: spawned[i]!, baseline: spawned[0]! }))
    for (const [i, n] of COUNTS.entries()) rows.push(row({ ...fields, name: `host discover, ${n} plugins`, polyplug: warm[i]!, baseline: warm[0]! }))
    return rows
  } finally {
    await rm(base, { recursive: true, force: true })
  }
}

export { run_ as run }
