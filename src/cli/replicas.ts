import { createHost } from '../host/host.js'
import { silentLogger } from '../host/log.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { formatTable } from './table.js'

/**
 * `polyplug replicas --plugins DIR ID`: starts the plugin (a pool, manifest `scale`) and prints the
 * replicas its broker knows: name, state, pid, machine (host.stats()'s `pool`).
 */
export async function runReplicas(plugins: string[], id: string | undefined, json: boolean): Promise<number> {
  const host = await createHost({ plugins, logger: silentLogger })
  try {
    if (!id) throw new PolyplugError(ErrorCodes.INVALID_PARAMS, 'replicas needs the id of a plugin with a `scale` block')
    await host.plugin(id).activate('explicit')
    const pool = host.stats().find((s) => s.id === id)?.pool
    if (!pool) throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `plugin "${id}" is not a pool of replicas: give it placement "remote" and a \`scale\` block (docs/scale-out.md)`, { plugin: id })
    if (json) process.stdout.write(`${JSON.stringify(pool, null, 2)}\n`)
    else process.stdout.write(formatTable(['replica', 'state', 'pid', 'machine'], pool.replicas.map((r) => [r.replica, r.state, String(r.pid ?? ''), r.hostname ?? ''])))
    return pool.replicas.some((r) => r.state === 'alive') ? 0 : 1
  } finally {
    await host.close()
  }
}
