/**
 * `js` plugins inline and in a worker, against an awaited plain call (with the inline call's
 * contract by hand beside it) and a raw postMessage echo, with birpc, comlink and the floor of any
 * RPC over a port (bench/port-floor.ts, its own row against the raw echo) measured in the same rounds.
 */
import { fileURLToPath } from 'node:url'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { compare, row, type BenchRow } from '../measure.js'
import { birpcPort, comlinkPort, floorPort, rawPort } from '../port-peers.js'
import { inlineFloor } from '../inline-floor.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const rows: BenchRow[] = []
  const raw = rawPort()
  const birpc = birpcPort()
  const comlink = comlinkPort()
  const portFloor = floorPort()
  try {
    // inline: the same function, awaited directly.
    const inline = host.plugin('echo-inline')
    await inline.activate()
    const plain = { echo: async (x: unknown) => x }
    // The floor of the inline call's contract, by hand (bench/inline-floor.ts), measured in the same rounds.
    const floor = inlineFloor('bench', { echo: (value: unknown) => value })
    const [viaHost, direct, byHand] = await compare([() => inline.call('echo', [1]), () => plain.echo(1), () => floor.call('echo', [1])])
    rows.push(row({ name: 'js inline echo', kind: 'js', placement: 'inline', transport: 'direct', polyplug: viaHost!, baseline: direct!, peer: 'hand-written inline floor', peer_value: byHand! }))

    // worker: a raw postMessage echo to a worker, the peer libraries over the same kind of port, and
    // the floor of any RPC over it (ids, a Map, a request and an answer object), all in the same rounds.
    const worker = host.plugin('echo-worker')
    await worker.activate()
    const ops = [() => worker.call('echo', [1]), () => raw.echo(1), () => birpc.echo(1), () => comlink.echo(1), () => portFloor.echo(1)]
    const [p, b, viaBirpc, viaComlink, f] = await compare(ops)
    const fields = { kind: 'js', placement: 'worker', transport: 'port', polyplug: p!, baseline: b! }
    rows.push(row({ name: 'js worker echo', ...fields, peer: 'birpc', peer_value: viaBirpc! }))
    rows.push(row({ name: 'js worker echo', ...fields, peer: 'comlink', peer_value: viaComlink! }))
    rows.push(row({ name: 'js worker echo', ...fields, peer: 'hand-written port RPC floor', peer_value: f! }))
    rows.push(row({ name: 'js worker RPC floor echo', kind: 'js', placement: 'worker', transport: 'port', polyplug: f!, baseline: b! }))
  } finally {
    await raw.close()
    await birpc.close()
    await comlink.close()
    await portFloor.close()
    await host.close()
  }
  return rows
}
