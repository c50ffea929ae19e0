/**
 * A host in its own process, for the no-orphans test: starts the plugins named on the command
 * line, prints their pids as one JSON line, then waits to be killed.
 */
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { examplesDir } from './paths.js'

const host = await createHost({ plugins: [examplesDir], logger: silentLogger })
const pids: number[] = []
for (const id of process.argv.slice(2)) {
  await host.plugin(id).activate()
  pids.push(host.plugin(id).pid() as number)
}
process.stdout.write(`${JSON.stringify(pids)}\n`)
setInterval(() => {}, 1000)
