/** Child for the startup benchmark: starts a host over the given plugin root, reports, exits. */
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'

const t0 = performance.now()
const host = await createHost({ plugins: [process.argv[2] ?? '.'], logger: silentLogger })
const ms = performance.now() - t0
const plugins = host.list().length
await host.close()
process.stdout.write(`${JSON.stringify({ ms, plugins })}\n`)
