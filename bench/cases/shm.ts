/**
 * `shm` against everything near it, in one run: small-call round trips and 1/4/16 MiB Uint8Array
 * echoes for shm in a worker and in processes (Node carrier and C sidecar), against a raw ring
 * echo over the same region and doorbells (the baseline), and against `port` (postMessage),
 * stdio and unix sockets through polyplug (the `peer` column).
 */
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { createWorkerRegion } from '../../src/placement/worker-shm.js'
import { compare, row, type BenchRow } from '../measure.js'
import { atomicsWakes, RawRing, startRawProcessEcho } from '../shm-raw.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const benchPlugins = fileURLToPath(new URL('../../../bench/plugins', import.meta.url))
const rawEchoC = fileURLToPath(new URL('../shm-raw-echo', import.meta.url))

const MiB = 1 << 20

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples, benchPlugins], logger: silentLogger, callTimeoutMs: 300_000 })
  const rawRegion = createWorkerRegion()
  const rawWorker = new Worker(new URL('../workers/shm-raw-echo.js', import.meta.url), { workerData: rawRegion })
  const rawW = new RawRing(rawRegion, atomicsWakes(rawRegion))
  const rawProcess = startRawProcessEcho(rawEchoC)
  const rawP = rawProcess.ring
  const rows: BenchRow[] = []
  try {
    const p = (id: string) => host.plugin(id)
    const ids = ['echo-worker-shm', 'echo-worker', 'echo-process-shm', 'echo-shm-c', 'echo-process-stdio', 'echo-process-unix', 'bench-stdio-msgpack', 'bench-unix-msgpack']
    for (const id of ids) await p(id).activate()
    const one = new Uint8Array([1])

    const [w, rw, port] = await compare([() => p('echo-worker-shm').call('echo', [1]), () => rawW.roundTrip(one), () => p('echo-worker').call('echo', [1])])
    rows.push(row({ name: 'shm worker echo', kind: 'js', placement: 'worker', transport: 'shm', polyplug: w!, baseline: rw!, peer: 'port', peer_value: port! }))
    const [node, c, rp, unix, stdio] = await compare([
      () => p('echo-process-shm').call('echo', [1]),
      () => p('echo-shm-c').call('echo', [1]),
      () => rawP.roundTrip(one),
      () => p('echo-process-unix').call('echo', [1]),
      () => p('echo-process-stdio').call('echo', [1]),
    ], { batch: 300, rounds: 11 })
    rows.push(row({ name: 'shm process echo (node)', kind: 'js', placement: 'process', transport: 'shm', polyplug: node!, baseline: rp!, peer: 'unix', peer_value: unix! }))
    rows.push(row({ name: 'shm process echo (C)', kind: 'exec', placement: 'process', transport: 'shm', polyplug: c!, baseline: rp!, peer: 'stdio', peer_value: stdio! }))

    for (const size of [MiB, 4 * MiB, 16 * MiB - 4096]) {
      const data = new Uint8Array(size).map((_, i) => i & 255)
      const label = `echo ${Math.round(size / MiB)} MiB`
      const big = size > 4 * MiB
      const options = { batch: big ? 2 : 4, rounds: big ? 3 : 5, warmup: 2 }
      const [bw, brw, bport] = await compare([
        () => p('echo-worker-shm').call('echo', [data]),
        () => rawW.roundTrip(data),
        () => p('echo-worker').call('echo', [data]),
      ], options)
      rows.push(row({ name: `shm worker ${label}`, kind: 'js', placement: 'worker', transport: 'shm', metric: label, polyplug: bw!, baseline: brw!, peer: 'port', peer_value: bport! }))
      const [bn, bc, brp, bstdio, bunix] = await compare([
        () => p('echo-process-shm').call('echo', [data]),
        () => p('echo-shm-c').call('echo', [data]),
        () => rawP.roundTrip(data),
        () => p('bench-stdio-msgpack').call('echo', [data]),
        () => p('bench-unix-msgpack').call('echo', [data]),
      ], options)
      rows.push(row({ name: `shm process ${label} (node)`, kind: 'js', placement: 'process', transport: 'shm', metric: label, polyplug: bn!, baseline: brp!, peer: 'stdio msgpack', peer_value: bstdio! }))
      rows.push(row({ name: `shm process ${label} (C)`, kind: 'exec', placement: 'process', transport: 'shm', metric: label, polyplug: bc!, baseline: brp!, peer: 'unix msgpack', peer_value: bunix! }))
      if (size === MiB) {
        // The stdio transport as configured by default (JSON: the bytes cross as base64).
        const [sj, rj] = await compare([() => p('echo-process-stdio').call('echo', [data]), () => rawP.roundTrip(data)], options)
        rows.push(row({ name: `stdio json ${label} (reference)`, kind: 'js', placement: 'process', transport: 'stdio', metric: label, polyplug: sj!, baseline: rj! }))
      }
    }
  } finally {
    await host.close()
    await rawProcess.stop()
    Atomics.store(new Int32Array(rawRegion, 0, 8), 4, 1)
    await rawWorker.terminate()
  }
  return rows
}
