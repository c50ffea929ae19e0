/**
 * `shm` against everything near it, in one run: small-call round trips and 1/4/16 MiB Uint8Array
 * echoes for shm in a worker and in processes (Node carrier and C sidecar), against a raw ring
 * echo over the same region and doorbells (the baseline), and against `port` (postMessage),
 * stdio and unix sockets through polyplug (the `peer` column).
 */
import { execFileSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { createWorkerRegion } from '../../src/transports/shm/worker.js'
import { compare, row, type BenchRow } from '../measure.js'
import { atomicsWakes, RawRing, startRawProcessEcho, stopRawWorker } from '../shm-raw.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const benchPlugins = fileURLToPath(new URL('../../../bench/plugins', import.meta.url))
const rawEchoC = fileURLToPath(new URL('../shm-raw-echo', import.meta.url))

const MiB = 1 << 20
const spinPingPong = fileURLToPath(new URL('../spin-pingpong', import.meta.url))
/** The examples' setting (examples/*-lowlatency): both sides poll 200 µs after each send. */
const SPIN_MICROS = 200

/**
 * Low-latency mode (docs/shm.md): polyplug with `spinMicros` against a raw ring echo that polls
 * the same way over the same kind of region, and against polyplug's default shm mode (the peer).
 * Plus the floor: C processes ping-ponging over one shared page, against a pipe.
 */
async function lowLatencyRows(p: (id: string) => { call(method: string, args: unknown[]): Promise<unknown>; activate(): Promise<void> }): Promise<BenchRow[]> {
  for (const id of ['echo-shm-c-lowlatency', 'echo-process-shm-lowlatency', 'echo-worker-shm-lowlatency']) await p(id).activate()
  const region = createWorkerRegion()
  const worker = new Worker(new URL('../workers/shm-raw-echo.js', import.meta.url), { workerData: { region, spinMicros: SPIN_MICROS } })
  const rawWorker = new RawRing(region, atomicsWakes(region), SPIN_MICROS)
  const rawProcess = startRawProcessEcho(rawEchoC, 4 << 20, SPIN_MICROS)
  const one = new Uint8Array([1])
  const rows: BenchRow[] = []
  try {
    const options = { batch: 500, rounds: 21 }
    const [c, node, rp, cDefault, nodeDefault] = await compare([
      () => p('echo-shm-c-lowlatency').call('echo', [1]),
      () => p('echo-process-shm-lowlatency').call('echo', [1]),
      () => rawProcess.ring.roundTrip(one),
      () => p('echo-shm-c').call('echo', [1]),
      () => p('echo-process-shm').call('echo', [1]),
    ], options)
    rows.push(row({ name: 'shm process echo (C), low-latency', kind: 'exec', placement: 'process', transport: 'shm', polyplug: c!, baseline: rp!, peer: 'shm default mode', peer_value: cDefault! }))
    rows.push(row({ name: 'shm process echo (node), low-latency', kind: 'js', placement: 'process', transport: 'shm', polyplug: node!, baseline: rp!, peer: 'shm default mode', peer_value: nodeDefault! }))
    const [w, rw, wDefault] = await compare([
      () => p('echo-worker-shm-lowlatency').call('echo', [1]),
      () => rawWorker.roundTrip(one),
      () => p('echo-worker-shm').call('echo', [1]),
    ], options)
    rows.push(row({ name: 'shm worker echo, low-latency', kind: 'js', placement: 'worker', transport: 'shm', polyplug: w!, baseline: rw!, peer: 'shm default mode', peer_value: wDefault! }))
  } finally {
    await rawProcess.stop()
    stopRawWorker(region)
    await worker.terminate()
  }
  // Not polyplug: the hardware's floor for a cross-process round trip, spinning vs blocking on a pipe.
  const floor = JSON.parse(execFileSync(spinPingPong, ['200000'], { encoding: 'utf8' })) as { spinNs: number; pipeNs: number }
  rows.push(row({ name: 'C spin ping-pong vs pipe ping-pong (reference)', kind: 'exec', placement: 'process', transport: 'shm', polyplug: floor.spinNs / 1000, baseline: floor.pipeNs / 1000 }))
  return rows
}

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
    ], { batch: 150, rounds: 21 })
    rows.push(row({ name: 'shm process echo (node)', kind: 'js', placement: 'process', transport: 'shm', polyplug: node!, baseline: rp!, peer: 'unix', peer_value: unix! }))
    rows.push(row({ name: 'shm process echo (C)', kind: 'exec', placement: 'process', transport: 'shm', polyplug: c!, baseline: rp!, peer: 'stdio', peer_value: stdio! }))
    rows.push(...(await lowLatencyRows(p)))

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
    stopRawWorker(rawRegion)
    await rawWorker.terminate()
  }
  return rows
}
