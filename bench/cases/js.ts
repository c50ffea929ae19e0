/** `js` plugins inline and in a worker, against an awaited plain call (with the inline call's contract by hand beside it) and a raw postMessage echo, with birpc and comlink as peers. */
import { fileURLToPath } from 'node:url'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { compare, row, type BenchRow } from '../measure.js'
import { birpcPort, comlinkPort, rawPort } from '../port-peers.js'
import { inlineFloor } from '../inline-floor.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const rows: BenchRow[] = []
  const raw = rawPort()
  const birpc = birpcPort()
  const comlink = comlinkPort()
  try {
    // inline: the same function, awaited directly.
    const inline = host.plugin('echo-inline')
    await inline.activate()
    const plain = { echo: async (x: unknown) => x }
    // The floor of the inline call's contract, by hand (bench/inline-floor.ts), measured in the same rounds.
    const floor = inlineFloor('bench', { echo: (value: unknown) => value })
    const [viaHost, direct, byHand] = await compare([() => inline.call('echo', [1]), () => plain.echo(1), () => floor.call('echo', [1])])
    rows.push(row({ name: 'js inline echo', kind: 'js', placement: 'inline', transport: 'direct', polyplug: viaHost!, baseline: direct!, peer: 'hand-written inline floor', peer_value: byHand! }))

    // worker: a raw postMessage echo to a worker, and the peer libraries over the same kind of port.
    const worker = host.plugin('echo-worker')
    await worker.activate()
    const [p, b, viaBirpc, viaComlink] = await compare([() => worker.call('echo', [1]), () => raw.echo(1), () => birpc.echo(1), () => comlink.echo(1)])
    const fields = { kind: 'js', placement: 'worker', transport: 'port', polyplug: p!, baseline: b! }
    rows.push(row({ name: 'js worker echo', ...fields, peer: 'birpc', peer_value: viaBirpc! }))
    rows.push(row({ name: 'js worker echo', ...fields, peer: 'comlink', peer_value: viaComlink! }))
  } finally {
    await raw.close()
    await birpc.close()
    await comlink.close()
    await host.close()
  }
  return rows
}
