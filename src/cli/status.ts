import { createHost } from '../host/host.js'
import { silentLogger } from '../host/log.js'
import { formatTable } from './table.js'

/**
 * Starts a host as an application would (onStartup plugins run), optionally runs one command,
 * then prints `host.stats()`: state, activation reason and times, calls, errors, latencies.
 */
export async function runStatus(plugins: string[], json: boolean, command?: string): Promise<number> {
  const host = await createHost({ plugins, logger: silentLogger })
  let code = 0
  if (command) await host.commands.execute(command).catch(() => (code = 1))
  const stats = host.stats()
  if (json) {
    process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`)
  } else {
    const ms = (v?: number) => (v === undefined ? '' : v.toFixed(1))
    process.stdout.write(
      formatTable(
        ['id', 'status', 'reason', 'load ms', 'activate ms', 'calls', 'errors'],
        stats.map((s) => [s.id, s.status, s.activationReason ?? '', ms(s.loadMs), ms(s.activateMs), String(s.calls), String(s.errors)]),
      ),
    )
  }
  await host.close()
  return code
}
