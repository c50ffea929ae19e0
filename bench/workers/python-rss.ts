/**
 * Child for the python benchmark: the RSS each python plugin adds, activated one after another in
 * one host: the first inline plugin (loads Pyodide), a second inline plugin with the same grants
 * (shares the interpreter), a worker (its own Pyodide), and the stdio sidecar's own process.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'

const examples = process.argv[2] ?? '.'
const second = mkdtempSync(join(tmpdir(), 'polyplug-python-second-'))
writeFileSync(join(second, 'polyplug.json'), JSON.stringify({ id: 'python-inline-2', version: '1.0.0', kind: 'python', entry: join(examples, 'shared/conformance.py'), placement: 'inline', limits: { startTimeoutMs: 120_000 } }))
const host = await createHost({ plugins: [`${examples}/python-inline`, `${examples}/python-worker`, `${examples}/python-stdio`, second], logger: silentLogger, callTimeoutMs: 120_000 })
const mb = (bytes: number) => bytes / 2 ** 20
const rss = () => mb(process.memoryUsage().rss)
const result: Record<string, number> = {}
async function added(name: string, id: string): Promise<void> {
  globalThis.gc?.()
  const before = rss()
  await host.plugin(id).call('echo', [1])
  result[name] = rss() - before
}
await added('inline, first plugin (loads Pyodide)', 'python-inline')
await added('inline, second plugin (shares the interpreter)', 'python-inline-2')
await added('worker (its own Pyodide)', 'python-worker')
await host.plugin('python-stdio').call('echo', [1])
let sidecar = 0
for (const task of readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
  const status = readFileSync(`/proc/${task}/status`, 'utf8')
  sidecar += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}
result['sidecar (its own process)'] = sidecar
await host.close()
process.stdout.write(`${JSON.stringify(result)}\n`)
