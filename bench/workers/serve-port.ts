// The js worker row's plugin side without the host: `servePlugin` over a port channel on the
// worker's own port, serving the same conformance plugin as the row's `echo-worker`
// (bench/profile.ts `worker-peer`, where a bare Peer calls it).
import { parentPort } from 'node:worker_threads'
import { servePlugin } from '../../src/sdk/serve.js'
import { portChannel } from '../../src/transports/port.js'
import type { PluginDefinition } from '../../src/sdk/define.js'

if (parentPort) {
  const plugin = (await import(new URL('../../../examples/shared/conformance.js', import.meta.url).href)) as { default: PluginDefinition }
  servePlugin(portChannel(parentPort), plugin.default, { id: 'bench' })
}
