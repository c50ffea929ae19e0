/**
 * For test/direct-deadlines.test.ts: one inline call with a one-hour deadline that answers at
 * once (on a later tick); the process must then exit by itself, the deadline timer notwithstanding.
 */
import { createMemoryPair } from '../../src/channels/memory.js'
import { createDirectInvoker, type DirectInvoke } from '../../src/sdk/direct.js'
import { definePlugin } from '../../src/sdk/define.js'
import { servePlugin } from '../../src/sdk/serve.js'

let invoke: DirectInvoke | undefined
const [hostSide, pluginSide] = createMemoryPair()
servePlugin(pluginSide, definePlugin({ methods: { later: () => new Promise((resolve) => setImmediate(() => resolve('answered'))) } }), {
  id: 'idle-child',
  exposeDirect: (methods, context) => (invoke = createDirectInvoker(methods, context)),
})
process.stdout.write(`${String(await invoke!('later', [], {}, 3_600_000))}\n`)
// The memory pair would keep nothing alive, but close it as a host would.
await hostSide.close()
