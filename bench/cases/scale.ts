/**
 * Scale-out throughput (docs/scale-out.md): a CPU-bound method (`burn`, fib(27)) called by one
 * host, 16 calls in flight, through a Mosquitto to a pool of 1, 2 and 4 `polyplug serve` replica
 * processes, against the same plugin inline in the host (one instance on the host's thread).
 * Calls per second; ratio = pool / inline. Replicas cannot outrun the machine's cores.
 */
import { execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHost, type Host } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { fixturesDir } from '../../test/support/paths.js'
import { poolPluginDir, POOL_ID, startPoolBroker, startReplica, type ReplicaProcess } from '../../test/support/scale.js'
import { until } from '../../test/support/wait.js'
import { round, type BenchRow } from '../measure.js'

const N = 27
const CALLS = 320
const IN_FLIGHT = 16

async function throughput(host: Host): Promise<number> {
  const plugin = host.plugin(POOL_ID)
  for (let i = 0; i < 20; i++) await plugin.call('burn', [N])
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next++ < CALLS) await plugin.call('burn', [N])
  }))
  return (CALLS * 1000) / (performance.now() - t0)
}

function hasMosquitto(): boolean {
  try {
    execFileSync('mosquitto', ['-h'], { stdio: 'ignore' })
    return true
  } catch (error) {
    return (error as { code?: string }).code !== 'ENOENT'
  }
}

export async function run(): Promise<BenchRow[]> {
  if (!hasMosquitto()) {
    process.stderr.write('bench: scale skipped (mosquitto is not installed: apt-get install -y mosquitto)\n')
    return []
  }
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-scale-'))
  const inlineDir = join(dir, 'inline', POOL_ID)
  await mkdir(inlineDir, { recursive: true })
  await cp(join(fixturesDir, 'scale', 'index.js'), join(inlineDir, 'index.js'))
  await writeFile(join(inlineDir, 'polyplug.json'), JSON.stringify({ id: POOL_ID, version: '1.0.0', kind: 'js', entry: 'index.js', placement: 'inline' }))
  const inlineHost = await createHost({ plugins: [join(dir, 'inline')], logger: silentLogger })
  const baseline = await throughput(inlineHost)
  await inlineHost.close()

  const pool = await startPoolBroker(dir, { hosts: 1, replicas: 4 })
  const root = await poolPluginDir(dir, pool.broker.url, 1)
  const rows: BenchRow[] = []
  const replicas: ReplicaProcess[] = []
  try {
    for (const count of [1, 2, 4]) {
      while (replicas.length < count) replicas.push(await startReplica(join(root, POOL_ID), pool.broker.url, replicas.length + 1))
      const host = await createHost({ plugins: [root], logger: silentLogger, callTimeoutMs: 120_000 })
      await host.plugin(POOL_ID).activate()
      await until(() => (host.stats()[0]?.pool?.replicas.filter((r) => r.state === 'alive').length ?? 0) === count, 10_000, `${count} live replicas`)
      const calls = await throughput(host)
      await host.close()
      rows.push({
        name: `burn fib(${N}), ${count} replica${count > 1 ? 's' : ''} (${availableParallelism()} cores)`,
        kind: 'js',
        placement: 'remote',
        transport: 'mqtt',
        metric: 'throughput',
        unit: 'calls/s',
        polyplug: round(calls, 1),
        baseline: round(baseline, 1),
        ratio: round(calls / baseline),
        peer: 'inline, one instance',
      })
    }
  } finally {
    for (const r of replicas) await r.stop()
    await pool.broker.stop()
    await rm(dir, { recursive: true, force: true })
  }
  return rows
}
