/**
 * The dashboard as `polyplug` exports it: the server's module (node:http, the page) loads when an
 * application first serves a dashboard, not when it imports polyplug; `pluginMetrics` loads
 * prom-client on its first call (dashboard/metrics.ts).
 */
import type { Host } from '../index.js'
import type { Dashboard, DashboardOptions } from './server.js'

export type { Dashboard, DashboardOptions } from './server.js'
export { pluginMetrics } from './metrics.js'

/** Serves the "Running Plugins" dashboard for `host` (docs/api.md); resolves once it listens. */
export async function serveDashboard(host: Host, options: DashboardOptions = {}): Promise<Dashboard> {
  return (await import('./server.js')).serveDashboard(host, options)
}
