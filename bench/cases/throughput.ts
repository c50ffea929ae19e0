/**
 * Throughput under concurrency: for every transport, calls per second with 1, 16 and 256 calls in
 * flight, against its raw echo driven the same way (same channel, same number in flight), with
 * p50/p99 of single calls under that load. Ratio = polyplug / raw: here higher is better, and the
 * goal is ≥ 0.8 at 256 in flight. Peer libraries (birpc, comlink, vscode-jsonrpc) are driven the
 * same way where one exists for the channel; over unix, so is the floor of any JSON-RPC sidecar
 * (bench/workers/json-frame-echo.ts: JSON.parse and JSON.stringify per message, nothing else), and
 * over http and ws the same floor on the raw echo's client and server (net.ts `jsonHttp`, `jsonWs`);
 * inline, so are the floors of an inline call (bench/inline-floor.ts: the call's contract by hand)
 * and of a wasm call through a JSON ABI (bench/wasm-json-floor.ts: the hand call plus the
 * JSON). mqtt runs through Mosquitto when it is installed (a
 * broker process of its own, as deployed), else the embedded aedes broker; its raw echo is a
 * hand-written request/response pair of MQTT clients on the same broker. shm runs its raw ring
 * echo through RawRingPipeline (bench/shm-raw.ts), and beside it the floor of any MessagePack-RPC
 * host beside it (MsgpackFloorPipeline: pack, unpack and route by id over the same rings and echo).
 */
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { jsonCodec, stringify } from '../../src/rpc/codec.js'
import { Peer } from '../../src/rpc/peer.js'
import { definePlugin } from '../../src/sdk/define.js'
import { servePlugin } from '../../src/sdk/serve.js'
import { serveHttpPlugin } from '../../src/sdk/serve-http.js'
import { connectHttp } from '../../src/transports/http.js'
import { connectMqtt } from '../../src/transports/mqtt.js'
import { row, throughput, type BenchRow, type Op } from '../measure.js'
import { birpcPort, comlinkPort, rawPort } from '../port-peers.js'
import { rawWasm } from '../workers/raw-wasm.js'
import { jsonFloor } from '../wasm-json-floor.js'
import { atomicsWakes, MsgpackFloorPipeline, RawRingPipeline, startRawProcessEcho, stopRawWorker } from '../shm-raw.js'
import { inlineFloor } from '../inline-floor.js'
import { createWorkerRegion } from '../../src/transports/shm/worker.js'
import { FLOOR, jsonHttp, jsonWs, mqttBroker, rawHttp, rawMqtt, rawWs } from './net.js'
import { rawEcho as rawKoffi } from './native.js'
import { jsonFloorEcho, rawEcho as rawFrames, vscodeJsonRpc } from './sidecar.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const rawEchoC = fileURLToPath(new URL('../shm-raw-echo', import.meta.url))
const TOKEN = 'bench-token-0123456789abcdef'
export const IN_FLIGHT = [1, 16, 256] as const

interface Subject {
  name: string
  kind: string
  placement: string
  transport: string
  polyplug: Op
  raw: Op
  peers?: { name: string; op: Op }[]
}

/**
 * Quick mode (`--quick`): shorter rounds and fewer of them (7 × 60 ms; the full run takes
 * throughput()'s 11 × 100 ms). Enough rounds for a median of paired ratios with quartiles: three
 * rounds of 80 ms (up to round six) moved a row 2× between two quiet runs.
 */
let quick = false
export function setQuick(on: boolean): void {
  quick = on
}

async function rowsFor(subject: Subject): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const peers = subject.peers ?? []
  for (const inFlight of IN_FLIGHT) {
    const [p, b, ...v] = await throughput([subject.polyplug, subject.raw, ...peers.map((peer) => peer.op)], inFlight, quick ? { ms: 60, rounds: 7 } : {})
    const fields = { name: `${subject.name} throughput`, kind: subject.kind, placement: subject.placement, transport: subject.transport, metric: `${inFlight} in flight`, unit: 'calls/s', polyplug: p!, baseline: b! }
    if (peers.length === 0) rows.push(row(fields))
    for (const [i, peer] of peers.entries()) rows.push(row({ ...fields, peer: peer.name, peer_value: v[i]! }))
  }
  return rows
}

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const closers: (() => Promise<unknown> | void)[] = [() => host.close()]
  const rows: BenchRow[] = []
  const subjects: Subject[] = []
  try {
    const p = async (id: string) => {
      const plugin = host.plugin(id)
      await plugin.activate()
      return () => plugin.call('echo', [1])
    }
    const plain = { echo: async (x: unknown) => x }
    const floor = inlineFloor('bench', { echo: (value: unknown) => value }) // synchronous, as the plugin's echo is
    const inlinePeers = [{ name: 'hand-written inline floor', op: () => floor.call('echo', [1]) }]
    subjects.push({ name: 'js inline echo', kind: 'js', placement: 'inline', transport: 'direct', polyplug: await p('echo-inline'), raw: () => plain.echo(1), peers: inlinePeers })

    const raw = rawPort()
    const birpc = birpcPort()
    const comlink = comlinkPort()
    closers.push(raw.close, birpc.close, comlink.close)
    const worker = await p('echo-worker')
    const peers = [{ name: 'birpc', op: () => birpc.echo(1) }, { name: 'comlink', op: () => comlink.echo(1) }]
    subjects.push({ name: 'js worker echo', kind: 'js', placement: 'worker', transport: 'port', polyplug: worker, raw: () => raw.echo(1), peers })

    const small = jsonCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
    const vscode = await vscodeJsonRpc()
    closers.push(() => vscode.close())
    for (const name of ['stdio', 'fifo', 'unix', 'tcp']) {
      const frames = await rawFrames(name)
      closers.push(frames.close)
      // unix also runs the floor of any JSON-RPC sidecar (JSON.parse and JSON.stringify per message on both ends, nothing else).
      const floor = name === 'unix' ? await jsonFloorEcho(name) : undefined
      if (floor) closers.push(floor.close)
      const peer = name === 'stdio' ? { peers: [{ name: 'vscode-jsonrpc', op: () => vscode.echo(1) }] } : floor ? { peers: [{ name: FLOOR, op: () => floor.call(1) }] } : {}
      subjects.push({ name: `sidecar ${name} echo`, kind: 'js', placement: 'process', transport: name, polyplug: await p(`echo-process-${name}`), raw: () => frames.call(small), ...peer })
    }

    const echoPlugin = definePlugin({ methods: { echo: (v: unknown) => v } })
    const server = await serveHttpPlugin(echoPlugin, { id: 'bench', token: TOKEN })
    const overPost = new Peer(await connectHttp({ url: server.url, token: TOKEN, calls: 'post' }))
    const overWs = new Peer(await connectHttp({ url: server.url, token: TOKEN, calls: 'ws' }))
    const http = await rawHttp()
    const ws = await rawWs()
    const httpFloor = await jsonHttp()
    const wsFloor = await jsonWs()
    closers.push(() => overPost.close(), () => overWs.close(), http.close, ws.close, httpFloor.close, wsFloor.close, () => server.close())
    const text = stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
    const httpPeers = [{ name: FLOOR, op: () => httpFloor.call(1) }]
    const wsPeers = [{ name: FLOOR, op: () => wsFloor.call(1) }]
    subjects.push({ name: 'http POST echo', kind: 'js', placement: 'process', transport: 'http', polyplug: () => overPost.call('echo', [1]), raw: () => http.call(text), peers: httpPeers })
    subjects.push({ name: 'ws echo', kind: 'js', placement: 'process', transport: 'ws', polyplug: () => overWs.call('echo', [1]), raw: () => ws.call(text), peers: wsPeers })

    const broker = await mqttBroker()
    closers.push(broker.close)
    const [mqttHost, mqttPlugin] = await Promise.all([
      connectMqtt({ url: broker.url, pluginId: 'bench', side: 'host', ...broker.user }),
      connectMqtt({ url: broker.url, pluginId: 'bench', side: 'plugin', ...broker.user }),
    ])
    servePlugin(mqttPlugin, echoPlugin, { id: 'bench' })
    const overMqtt = new Peer(mqttHost)
    const mqtt = await rawMqtt(broker.url, broker.user)
    closers.push(() => overMqtt.close(), () => mqttPlugin.close(), mqtt.close)
    subjects.push({ name: `mqtt ${broker.name} echo`, kind: 'js', placement: 'process', transport: 'mqtt', polyplug: () => overMqtt.call('echo', [1]), raw: () => mqtt.call(text) })

    const koffi = rawKoffi(false)
    subjects.push({ name: 'native inline echo', kind: 'native', placement: 'inline', transport: 'direct', polyplug: await p('native-c-inline'), raw: () => koffi(1) })
    subjects.push({ name: 'native worker echo', kind: 'native', placement: 'worker', transport: 'port', polyplug: await p('native-c-worker'), raw: () => koffi(1) })

    const wasmPath = `${examples}/wasm-c-inline/plugin.wasm`
    const wasmInput = new TextEncoder().encode(`echo${stringify([1])}`)
    const byHand = rawWasm(wasmPath)
    const jsonAbiFloor = jsonFloor(byHand)
    const echoName = new TextEncoder().encode('echo')
    const wasmPeers = [{ name: 'hand-written JSON ABI floor', op: () => jsonAbiFloor(echoName, [1]) }]
    subjects.push({ name: 'wasm inline echo', kind: 'wasm', placement: 'inline', transport: 'direct', polyplug: await p('wasm-c-inline'), raw: () => byHand.call(wasmInput, 4), peers: wasmPeers })
    const rawWasmWorker = new Worker(new URL('../workers/raw-wasm.js', import.meta.url), { workerData: { wasm: wasmPath } })
    closers.push(() => rawWasmWorker.terminate())
    const waiters: ((v: unknown) => void)[] = []
    rawWasmWorker.on('message', (m) => waiters.shift()?.(m))
    const rawRemote = () => new Promise((resolve) => {
      waiters.push(resolve)
      rawWasmWorker.postMessage(wasmInput)
    })
    subjects.push({ name: 'wasm worker echo', kind: 'wasm', placement: 'worker', transport: 'port', polyplug: await p('wasm-c-worker'), raw: rawRemote })

    const one = new Uint8Array([1])
    // The raw echo worker on a region of its own, stopped with the bench.
    const rawShmWorker = () => {
      const region = createWorkerRegion()
      const worker = new Worker(new URL('../workers/shm-raw-echo.js', import.meta.url), { workerData: region })
      closers.push(async () => {
        stopRawWorker(region)
        await worker.terminate()
      })
      return region
    }
    const region = rawShmWorker()
    const shmWorker = new RawRingPipeline(region, atomicsWakes(region))
    const floorRegion = rawShmWorker()
    const shmWorkerFloor = new MsgpackFloorPipeline(floorRegion, atomicsWakes(floorRegion))
    const shmWorkerPeers = [{ name: 'hand-written MessagePack-RPC floor', op: () => shmWorkerFloor.call(1) }]
    subjects.push({ name: 'shm worker echo', kind: 'js', placement: 'worker', transport: 'shm', polyplug: await p('echo-worker-shm'), raw: () => shmWorker.call(one), peers: shmWorkerPeers })
    const rawShmProcess = startRawProcessEcho(rawEchoC)
    closers.push(rawShmProcess.stop)
    const shmProcess = rawShmProcess.pipeline()
    // The floor of any MessagePack-RPC host over these rings: a second raw echo child, driven by
    // MsgpackFloorPipeline (pack a request with an id, unpack the echo, route by id; nothing else).
    const floorShmProcess = startRawProcessEcho(rawEchoC)
    closers.push(floorShmProcess.stop)
    const shmFloor = floorShmProcess.floor()
    const shmPeers = [{ name: 'hand-written MessagePack-RPC floor', op: () => shmFloor.call(1) }]
    subjects.push({ name: 'shm process echo (C)', kind: 'exec', placement: 'process', transport: 'shm', polyplug: await p('echo-shm-c'), raw: () => shmProcess.call(one), peers: shmPeers })

    for (const subject of subjects) rows.push(...(await rowsFor(subject)))
  } finally {
    for (const close of closers.reverse()) await close()
  }
  return rows
}
