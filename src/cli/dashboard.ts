import { createHost } from '../host/host.js'
import { stderrLogger } from '../host/log.js'
import { UsageError } from './output.js'

export interface DashboardFlags {
  port?: string | undefined
  host?: string | undefined
  token?: string | undefined
}

/**
 * Starts a host over the plugin folders (onStartup plugins run), serves its dashboard, prints the
 * URL to open (with the action token in its fragment) and runs until SIGINT or SIGTERM, then
 * stops every plugin.
 */
export async function runDashboard(plugins: string[], flags: DashboardFlags): Promise<number> {
  const port = flags.port === undefined ? 0 : Number(flags.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${flags.port}"`)
  const host = await createHost({ plugins, logger: stderrLogger('warn') })
  const dashboard = await host.serveDashboard({ port, ...(flags.host ? { host: flags.host } : {}), ...(flags.token ? { token: flags.token } : {}) })
  process.stdout.write(`polyplug dashboard: ${dashboard.openUrl}\n(metrics at ${dashboard.url}metrics; Ctrl-C stops the plugins and exits)\n`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await host.close()
  return 0
}
