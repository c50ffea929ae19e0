/**
 * `wasm` plugins (the C conformance module) inline and in a worker, against the ABI called by hand
 * (the same argument bytes copied into guest memory, `polyplug_call`, the result copied out), with
 * the bare export call for scale, and a 1 MiB argument round trip. Beside the inline row, the kind
 * adapter alone and the JSON floor (the hand call plus only the JSON a method call cannot avoid).
 */
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { stringify } from '../../src/rpc/codec.js'
import { loadWasmPlugin } from '../../src/kinds/wasm.js'
import type { MethodContext } from '../../src/sdk/define.js'
import { BIG_PAYLOAD, compare, row, type BenchRow } from '../measure.js'
import { rawWasm } from '../workers/raw-wasm.js'
import { jsonFloor } from '../wasm-json-floor.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const wasmPath = `${examples}/wasm-c-inline/plugin.wasm`
const encoder = new TextEncoder()

/** The bytes polyplug writes for `echo(value)`: method name, then the JSON argument array. */
const input = (value: unknown) => encoder.encode(`echo${stringify([value])}`)

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const rows: BenchRow[] = []
  const raw = rawWasm(wasmPath)
  const json = jsonFloor(raw)
  const rawWorker = new Worker(new URL('../workers/raw-wasm.js', import.meta.url), { workerData: { wasm: wasmPath } })
  const waiters: ((v: unknown) => void)[] = []
  rawWorker.on('message', (m) => waiters.shift()?.(m))
  const rawRemote = (bytes: Uint8Array) => new Promise((resolve) => {
    waiters.push(resolve)
    rawWorker.postMessage(bytes)
  })
  try {
    const inline = host.plugin('wasm-c-inline')
    const worker = host.plugin('wasm-c-worker')
    await inline.activate()
    await worker.activate()
    const small = input(1)
    // The kind adapter alone (JSON in and out of guest memory, no RPC), and the floor of any JSON
    // ABI (the raw call plus JSON.stringify of the params into guest memory and JSON.parse of the
    // result, nothing else), measured in the same interleaved rounds: inline / adapter / floor / raw
    // split the inline ratio into the host's call path, the adapter, and the JSON contract itself.
    const adapter = await loadWasmPlugin({ id: 'bench', entryPath: wasmPath, manifest: { id: 'bench', version: '1.0.0', kind: 'wasm', entry: 'plugin.wasm', placement: 'inline', transport: 'direct' } })
    const echo = (adapter.methods as Record<string, (v: unknown, ctx: MethodContext) => unknown>).echo!
    const noContext = {} as MethodContext
    const echoName = encoder.encode('echo')
    const [viaInline, viaAdapter, floor, byHand, bare] = await compare([
      () => inline.call('echo', [1]),
      () => echo(1, noContext),
      () => json(echoName, [1]),
      () => raw.call(small, 4),
      () => raw.bare(),
    ])
    rows.push(row({ name: 'wasm inline echo', kind: 'wasm', placement: 'inline', transport: 'direct', polyplug: viaInline!, baseline: byHand!, peer: 'bare export', peer_value: bare! }))
    rows.push(row({ name: 'wasm adapter echo (no RPC)', kind: 'wasm', placement: 'inline', transport: 'none', polyplug: viaAdapter!, baseline: byHand! }))
    rows.push(row({ name: 'wasm JSON ABI floor echo', kind: 'wasm', placement: 'inline', transport: 'none', polyplug: floor!, baseline: byHand! }))

    const [viaWorker, byHandWorker] = await compare([() => worker.call('echo', [1]), () => rawRemote(small)])
    rows.push(row({ name: 'wasm worker echo', kind: 'wasm', placement: 'worker', transport: 'port', polyplug: viaWorker!, baseline: byHandWorker! }))

    const mib = new Uint8Array(1 << 20).map((_, i) => i & 255)
    const big = input(mib)
    const opts = BIG_PAYLOAD
    const [bigInline, bigByHand] = await compare([() => inline.call('echo', [mib]), () => raw.call(big, 4)], opts)
    rows.push(row({ name: 'wasm inline echo 1 MiB', kind: 'wasm', placement: 'inline', transport: 'direct', metric: '1MiB-round-trip', polyplug: bigInline!, baseline: bigByHand! }))
    const [bigWorker, bigByHandWorker] = await compare([() => worker.call('echo', [mib]), () => rawRemote(big)], opts)
    rows.push(row({ name: 'wasm worker echo 1 MiB', kind: 'wasm', placement: 'worker', transport: 'port', metric: '1MiB-round-trip', polyplug: bigWorker!, baseline: bigByHandWorker! }))
  } finally {
    await rawWorker.terminate()
    await host.close()
  }
  return rows
}
