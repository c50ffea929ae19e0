import { Host } from '../host/host.js'
import { silentLogger } from '../host/log.js'
import { formatTable } from './table.js'

/**
 * Lists discovered plugins, valid and invalid, without running any plugin code. Exits 1 when a
 * folder holds a plugin that is invalid (its manifest cannot be read or fails validation), after
 * listing every plugin; unavailable plugins (a dependency or package missing) are listed with their
 * error and leave the exit code alone.
 */
export async function runList(plugins: string[], json: boolean): Promise<number> {
  // Discovery only: createHost would also start the onStartup plugins.
  const host = new Host({ plugins, logger: silentLogger })
  await host.discover()
  const rows: Record<string, unknown>[] = host.list().map((p) => ({
    id: p.id,
    version: p.version,
    kind: p.kind,
    placement: p.placement,
    transport: p.transport,
    entry: p.entry,
    status: p.status,
    dir: p.dir,
    ...(p.dependencies ? { dependencies: p.dependencies } : {}),
    ...(p.status === 'unavailable' && p.lastError ? { error: p.lastError } : {}),
  }))
  for (const bad of host.invalid()) {
    const status = bad.error.code === 'MANIFEST_INVALID' ? 'invalid' : 'unavailable'
    rows.push({ id: bad.error.plugin ?? null, status, dir: bad.dir, error: { code: bad.error.code, message: bad.error.message } })
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  } else {
    const columns = ['id', 'version', 'kind', 'placement', 'transport', 'status']
    process.stdout.write(formatTable(columns, rows.map((r) => columns.map((c) => String(r[c] ?? '')))))
    for (const bad of host.invalid()) process.stderr.write(`${bad.error.message}\n`)
    for (const p of host.list()) if (p.status === 'unavailable' && p.lastError) process.stderr.write(`${p.id}: ${p.lastError.code}: ${p.lastError.message}\n`)
  }
  const invalid = host.invalid().length
  await host.close()
  return invalid > 0 ? 1 : 0
}
