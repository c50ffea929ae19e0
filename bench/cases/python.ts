/**
 * `python` plugins in Pyodide (the same conformance.py as the python-stdio sidecar):
 * - echo inline against a raw Pyodide call of a Python `echo` (same run), with the stdio sidecar
 *   as peer; echo in a worker against the same sidecar;
 * - first call in a fresh process: cold (no snapshot cache) and warm (snapshot cached), against
 *   the sidecar's first call;
 * - RSS a plugin adds to the host process (the sidecar's is its own process's).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { compare, median, row, type BenchRow } from '../measure.js'

const execFileAsync = promisify(execFile)
const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const firstCallChild = fileURLToPath(new URL('../workers/first-call.js', import.meta.url))
const rssChild = fileURLToPath(new URL('../workers/python-rss.js', import.meta.url))
const ROUNDS = 3

async function firstCall(folder: string, id: string, env: Record<string, string>): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, [firstCallChild, `${examples}/${folder}`, id], { env: { ...process.env, ...env } })
  return (JSON.parse(stdout) as { ms: number }).ms
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const host = await createHost({ plugins: [examples], logger: silentLogger, callTimeoutMs: 120_000 })
  try {
    const inline = host.plugin('python-inline')
    const worker = host.plugin('python-worker')
    const sidecar = host.plugin('python-stdio')
    // One at a time: loading Pyodide inline holds the host's thread for a while.
    await sidecar.activate()
    await inline.activate()
    await worker.activate()
    const { loadPyodide } = (await import('pyodide')) as unknown as { loadPyodide: (o?: object) => Promise<{ runPython(code: string): (v: unknown) => unknown }> }
    const raw = await loadPyodide()
    const rawEcho = raw.runPython('def echo(value):\n    return value\necho')
    const options = { batch: 200, rounds: 9, warmup: 300 }
    const [viaInline, byHand, viaSidecar] = await compare([() => inline.call('echo', [1]), () => rawEcho(1), () => sidecar.call('echo', [1])], options)
    rows.push(row({ name: 'python inline echo', kind: 'python', placement: 'inline', transport: 'direct', polyplug: viaInline!, baseline: byHand!, peer: 'stdio sidecar', peer_value: viaSidecar! }))
    const [viaWorker, viaSidecar2] = await compare([() => worker.call('echo', [1]), () => sidecar.call('echo', [1])], options)
    rows.push(row({ name: 'python worker echo', kind: 'python', placement: 'worker', transport: 'port', polyplug: viaWorker!, baseline: viaSidecar2!, peer: 'baseline = stdio sidecar' }))
  } finally {
    await host.close()
  }

  const cache = await mkdtemp(join(tmpdir(), 'polyplug-bench-pyodide-'))
  try {
    await firstCall('python-inline', 'python-inline', { POLYPLUG_PYODIDE_CACHE: cache }) // makes the snapshot
    for (const placement of ['inline', 'worker'] as const) {
      const cold: number[] = []
      const warm: number[] = []
      const side: number[] = []
      for (let i = 0; i < ROUNDS; i++) {
        cold.push(await firstCall(`python-${placement}`, `python-${placement}`, { POLYPLUG_PYODIDE_CACHE: 'off' }))
        warm.push(await firstCall(`python-${placement}`, `python-${placement}`, { POLYPLUG_PYODIDE_CACHE: cache }))
        side.push(await firstCall('python-stdio', 'python-stdio', {}))
      }
      const fields = { kind: 'python', placement, transport: placement === 'inline' ? 'direct' : 'port', metric: 'load + call', unit: 'ms', baseline: median(side), peer: 'baseline = stdio sidecar' }
      rows.push(row({ name: `first call, python ${placement}, cold (no snapshot)`, ...fields, polyplug: median(cold) }))
      rows.push(row({ name: `first call, python ${placement}, warm (snapshot cached)`, ...fields, polyplug: median(warm) }))
    }
    const { stdout } = await execFileAsync(process.execPath, [rssChild, examples], { env: { ...process.env, POLYPLUG_PYODIDE_CACHE: cache } })
    const rss = JSON.parse(stdout) as Record<string, number>
    for (const [name, mb] of Object.entries(rss)) {
      rows.push(row({ name: `RSS, ${name}`, kind: 'python', placement: name.split(/[ ,]/)[0] ?? '', transport: '', metric: 'rss', unit: 'MB', polyplug: mb, baseline: rss['sidecar (its own process)'] ?? mb }))
    }
  } finally {
    await rm(cache, { recursive: true, force: true })
  }
  return rows
}
