/** Child for the plugin-load benchmark: a host over one plugin folder, one call; reports how long the call took. */
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'

const [folder, id] = process.argv.slice(2)
const host = await createHost({ plugins: [folder ?? '.'], logger: silentLogger })
const t0 = performance.now()
await host.plugin(id ?? '').call('echo', [1])
const ms = performance.now() - t0
await host.close()
process.stdout.write(`${JSON.stringify({ ms })}\n`)
