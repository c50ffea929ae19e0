/**
 * A host in its own process, for the no-orphans tests: starts the plugins named on the command
 * line, prints their pids as one JSON line, then waits to be killed.
 *
 * Either plugin ids from examples/ as arguments (their pids are printed as an array), or one JSON
 * argument: { dirs, activate: [id], grandchildren: [[id, method, args]], busy: [[id, method, args]] }
 * — `grandchildren` calls answer a pid the plugin started, `busy` calls are left running (each
 * followed by an `echo` on the same plugin, so the busy call has reached it); it then prints
 * { plugins: [pid], grandchildren: [pid] }.
 */
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { examplesDir } from './paths.js'

type Call = [string, string, unknown[]]
interface Spec {
  dirs: string[]
  activate: string[]
  grandchildren?: Call[]
  busy?: Call[]
}

const first = process.argv[2] ?? ''
const spec: Spec | undefined = first.startsWith('{') ? (JSON.parse(first) as Spec) : undefined
const host = await createHost({ plugins: spec?.dirs ?? [examplesDir], logger: silentLogger })
const ids = spec?.activate ?? process.argv.slice(2)
const pids: number[] = []
for (const id of ids) {
  await host.plugin(id).activate()
  pids.push(host.plugin(id).pid() as number)
}
if (!spec) {
  process.stdout.write(`${JSON.stringify(pids)}\n`)
} else {
  const grandchildren: number[] = []
  for (const [id, method, args] of spec.grandchildren ?? []) grandchildren.push(Number(await host.plugin(id).call(method, args)))
  for (const [id, method, args] of spec.busy ?? []) {
    void host.plugin(id).call(method, args).catch(() => {})
    await host.plugin(id).call('echo', ['the busy call is running'])
  }
  process.stdout.write(`${JSON.stringify({ plugins: pids, grandchildren })}\n`)
}
setInterval(() => {}, 1000)
