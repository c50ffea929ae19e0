/** `js` plugins inline and in a worker, against an awaited plain call and a raw postMessage echo. */
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { createBirpc } from 'birpc'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { compare, row, type BenchRow } from '../measure.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const rows: BenchRow[] = []
  try {
    // inline: the same function, awaited directly.
    const inline = host.plugin('echo-inline')
    await inline.activate()
    const plain = { echo: async (x: unknown) => x }
    const [viaHost, direct] = await compare([() => inline.call('echo', [1]), () => plain.echo(1)])
    rows.push(row({ name: 'js inline echo', kind: 'js', placement: 'inline', transport: 'direct', polyplug: viaHost!, baseline: direct! }))

    // worker: a raw postMessage echo to a worker, and birpc over the same kind of port.
    const worker = host.plugin('echo-worker')
    await worker.activate()
    const raw = new Worker(new URL('../workers/raw-echo.js', import.meta.url))
    const waiters: ((v: unknown) => void)[] = []
    raw.on('message', (m) => waiters.shift()?.(m))
    const rawEcho = (x: unknown) => new Promise((resolve) => {
      waiters.push(resolve)
      raw.postMessage(x)
    })
    const birpcWorker = new Worker(new URL('../workers/birpc-echo.js', import.meta.url))
    const birpc = createBirpc<{ echo(x: unknown): unknown }>({}, {
      post: (data: unknown) => birpcWorker.postMessage(data),
      on: (fn: (data: unknown) => void) => birpcWorker.on('message', fn),
    })
    const [p, b, peer] = await compare([() => worker.call('echo', [1]), () => rawEcho(1), () => birpc.echo(1)])
    rows.push(row({ name: 'js worker echo', kind: 'js', placement: 'worker', transport: 'port', polyplug: p!, baseline: b!, peer: 'birpc', peer_value: peer! }))
    await raw.terminate()
    await birpcWorker.terminate()
  } finally {
    await host.close()
  }
  return rows
}
