/**
 * `node dist/bench/profile.js CASE N`: sets up one bench case, warms it up, then makes N
 * sequential awaited calls and exits. Run it under `valgrind --tool=callgrind` (or `node
 * --cpu-prof`) with N and with 0: the difference divided by N is the cost of one call in
 * instructions, which — unlike wall-clock time — the load of a shared machine does not move.
 * Cases: plain, inline, inline-floor (the inline call's contract written by hand), worker, worker-raw,
 * worker-birpc / worker-comlink (the worker row's peers), worker-peer (a bare Peer calling the worker row's plugin), port-pair / port-pair-raw / port-pair-birpc (a Peer pair, a raw echo, or birpc on both ends, over one
 * MessageChannel in this thread), worker-floor / port-pair-floor (the floor of any RPC over a port, bench/port-floor.ts, in a
 * worker as the row measures it, or both ends in this thread), SIDECAR / SIDECAR-raw for stdio, fifo, unix, tcp,
 * http / http-raw, ws / ws-raw and mqtt / mqtt-raw (both ends in this process; mqtt through
 * Mosquitto when installed, else aedes), carrier-TRANSPORT (the Node carrier spawned without the
 * sandbox, so that PROFILE_CHILD_ARGS reach it), SIDECAR-json (the floor of any JSON-RPC sidecar:
 * JSON.stringify / JSON.parse per message on both ends and nothing else, bench/workers/json-frame-echo.ts)
 * http-json / ws-json (the same floor over the raw http and ws echo's channel, bench/cases/net.ts
 * `jsonHttp` / `jsonWs`), each end of those rows alone against the floor's same end (http-client,
 * http-server, ws-client, ws-server and their -json twins: bench/net-sides.ts) and `plugin:ID` for any example.
 * A third argument BYTES echoes a Uint8Array of that size instead of the number 1 (sidecar cases);
 * a fourth, IN_FLIGHT, keeps that many calls outstanding (each lane awaits its call, then starts
 * the next, as the throughput bench does). It prints this process's CPU per call, its children's
 * (a sidecar, a broker), and the wall-clock rate. PROFILE_WARMUP sets the calls made before the
 * measured ones (default 2000; 20 with BYTES). Instructions per call without start-up's noise:
 * `PROFILE_WARMUP=100000 valgrind --tool=callgrind --dump-before=getppid node dist/bench/profile.js
 * CASE N` — the second dump (callgrind.out.PID.2) holds the N measured calls alone.
 * The latency rows of issue 17 beyond these, each with a `-raw` twin that is the bench's baseline
 * for that row: wasm (the ABI by hand; wasm-adapter is the kind's adapter alone, no RPC, and
 * wasm-floor the hand call plus only the JSON a method call cannot avoid; wasm-worker against
 * wasm-worker-raw, the hand call in a worker echoing over its port), native and native-worker (both against native-raw, raw
 * koffi `.async`), shm-c and shm-c-ll (the raw ring echo child, default and low-latency mode;
 * shm-c-floor is the hand-written MessagePack-RPC floor over the same rings and child),
 * unix-msgpack (the raw frame echo child sending the MessagePack frame back). With IN_FLIGHT > 1
 * the shm raw cases drive the ring through `RawRingPipeline`, as the throughput bench does.
 * PROFILE_HEAP=1 adds the bytes allocated per measured call, in all and by allocating function.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { PassThrough, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { binaryJsonCodec as frameCodec } from '../src/rpc/attachments.js'
import { transportModule } from '../src/registry/index.js'
import { stringify } from '../src/rpc/codec.js'
import { Peer } from '../src/rpc/peer.js'
import { definePlugin } from '../src/sdk/define.js'
import { serveHttpPlugin } from '../src/sdk/serve-http.js'
import { servePlugin } from '../src/sdk/serve.js'
import { connectMqtt } from '../src/transports/mqtt.js'
import { connectHttp } from '../src/transports/http.js'
import { portChannel } from '../src/transports/port.js'
import { streamChannel } from '../src/transports/stream.js'
import { encodeFrame } from '../src/framing/framing.js'
import { jsonHttp, jsonWs, mqttBroker, rawHttp, rawMqtt, rawWs } from './cases/net.js'
import { NET_SIDES, netSide } from './net-sides.js'
import { startHeapSampling } from './heap-sample.js'
import { rawEcho as rawKoffiEcho } from './cases/native.js'
import { jsonFloorCaller, jsonFloorEcho, rawEcho } from './cases/sidecar.js'
import { startRawProcessEcho } from './shm-raw.js'
import { inlineFloor } from './inline-floor.js'
import { birpcPort, comlinkPort, floorPort } from './port-peers.js'
import { floorAnswer, floorCaller } from './port-floor.js'
import { createBirpc } from 'birpc'
import { rawWasm } from './workers/raw-wasm.js'
import { jsonFrameAnswerer } from './workers/json-frame-answer.js'
import { jsonFloor } from './wasm-json-floor.js'
import { loadWasmPlugin } from '../src/kinds/wasm.js'
import type { MethodContext } from '../src/sdk/define.js'
import { msgpackCodec } from '../src/rpc/msgpack.js'

const examples = fileURLToPath(new URL('../../examples', import.meta.url))
const workerPath = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url))
const [name = 'inline', count = '10000'] = process.argv.slice(2)
const n = Number(count)
const bytes = Number(process.argv[4] ?? 0)
const inFlight = Math.max(1, Number(process.argv[5] ?? 1))
/** PROFILE_TIMEOUT_MS: the host's call and start deadlines and `worker-peer`'s (default 30 s, as a host's); longer under valgrind on a loaded machine. */
const timeoutMs = Number(process.env.PROFILE_TIMEOUT_MS ?? 30_000)
const arg: unknown = bytes > 0 ? new Uint8Array(bytes).map((_, i) => i & 255) : 1

type Op = () => Promise<unknown> | unknown

/** Node flags for the child processes this harness spawns itself (carrier-TRANSPORT, TRANSPORT-raw), e.g. "--cpu-prof --cpu-prof-dir=prof". */
const childArgs = () => (process.env.PROFILE_CHILD_ARGS ?? '').split(' ').filter(Boolean)

/** The plugins behind the named latency rows (bench/cases/wasm, native, shm, sidecar). */
const rowPlugins: Record<string, string> = {
  wasm: 'wasm-c-inline',
  'wasm-worker': 'wasm-c-worker',
  native: 'native-c-inline',
  'native-worker': 'native-c-worker',
  'shm-c': 'echo-shm-c',
  'shm-c-ll': 'echo-shm-c-lowlatency',
  'unix-msgpack': 'echo-process-unix-msgpack',
}

/** The raw twins of those rows, as the bench measures them; undefined for any other case. */
async function rawRowSetup(): Promise<{ op: Op; close(): Promise<void> } | undefined> {
  const none = async () => {}
  if (name === 'wasm-raw' || name === 'wasm-floor') {
    const raw = rawWasm(`${examples}/wasm-c-inline/plugin.wasm`)
    const input = new TextEncoder().encode(`echo${stringify([arg])}`)
    const echo = new TextEncoder().encode('echo')
    const params = [arg]
    const json = jsonFloor(raw)
    return { op: name === 'wasm-raw' ? () => raw.call(input, 4) : () => json(echo, params), close: none }
  }
  if (name === 'wasm-adapter') {
    const path = `${examples}/wasm-c-inline/plugin.wasm`
    const adapter = await loadWasmPlugin({ id: 'bench', entryPath: path, manifest: { id: 'bench', version: '1.0.0', kind: 'wasm', entry: 'plugin.wasm', placement: 'inline', transport: 'direct' } })
    const echo = (adapter.methods as Record<string, (v: unknown, ctx: MethodContext) => unknown>).echo!
    const noContext = {} as MethodContext
    return { op: () => echo(arg, noContext), close: none }
  }
  if (name === 'native-raw') {
    const raw = rawKoffiEcho(false)
    return { op: () => raw(arg), close: none }
  }
  if (name === 'shm-c-floor') {
    // The floor of any MessagePack-RPC host over the rings: pack a request with an id, the raw
    // echo child sends it back, unpack it and route by id (MsgpackFloorPipeline); one call at a
    // time or IN_FLIGHT lanes, as the other shm cases.
    const raw = startRawProcessEcho(fileURLToPath(new URL('./shm-raw-echo', import.meta.url)))
    const floor = raw.floor()
    return { op: () => floor.call(arg), close: () => raw.stop() }
  }
  if (name === 'shm-c-raw' || name === 'shm-c-ll-raw') {
    const rawEchoC = fileURLToPath(new URL('./shm-raw-echo', import.meta.url))
    const raw = name === 'shm-c-raw' ? startRawProcessEcho(rawEchoC) : startRawProcessEcho(rawEchoC, 4 << 20, 200)
    const payload = bytes > 0 ? (arg as Uint8Array) : new Uint8Array([1])
    if (inFlight === 1) return { op: () => raw.ring.roundTrip(payload), close: () => raw.stop() }
    const pipeline = raw.pipeline()
    return { op: () => pipeline.call(payload), close: () => raw.stop() }
  }
  if (name === 'unix-msgpack-raw') {
    const raw = await rawEcho('unix')
    const frame = msgpackCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [arg] })
    return { op: () => raw.call(frame), close: () => raw.close() }
  }
  return undefined
}

/**
 * `serve` / `serve-raw` / `serve-json`: a plugin's side of a byte-stream sidecar alone, in this
 * process and without syscalls — request frames pushed into the stream channel `servePlugin`
 * answers on, each answer taken from a Writable; `serve-raw` pipes the same frames through to the
 * Writable, as the raw echo child does; `serve-json` answers them as the JSON-RPC floor's child
 * does (bench/workers/json-frame-answer.ts). CPU per call is then polyplug's JavaScript per request (and its garbage).
 * With IN_FLIGHT > 1 the requests of one tick arrive as one chunk, as a read of the socket brings
 * them to a sidecar at that concurrency, and each answer chunk releases as many calls as it holds.
 */
function serveSetup(): { op: Op; close(): Promise<void> } {
  const input = new PassThrough()
  const waiting: (() => void)[] = []
  let answered = 0
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      done()
      // Length frames: each answer is a 4-byte big-endian size and its body.
      for (let at = 0; at + 4 <= chunk.byteLength; at += 4 + chunk.readUInt32BE(at)) waiting[answered++]?.()
      if (answered === waiting.length) waiting.length = answered = 0
    },
  })
  if (name === 'serve') servePlugin(streamChannel(input, output), definePlugin({ methods: { echo: (v: unknown) => v } }), { id: 'bench' })
  else if (name === 'serve-json') input.on('data', jsonFrameAnswerer(output))
  else input.pipe(output)
  const frames = Array.from({ length: 1024 }, (_, i) => Buffer.concat(encodeFrame('length', frameCodec.encode({ jsonrpc: '2.0', id: i + 1, method: 'echo', params: [arg] }))))
  let next = 0
  let batch: Buffer[] = []
  const flush = () => {
    input.write(batch.length === 1 ? batch[0] : Buffer.concat(batch))
    batch = []
  }
  const op = () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve)
      batch.push(frames[next++ & 1023]!)
      if (inFlight === 1) flush()
      else if (batch.length === 1) process.nextTick(flush)
    })
  return { op, close: async () => void input.end() }
}

/**
 * `call` / `call-json`: a host's side of a byte-stream sidecar alone, in this process and without
 * syscalls — a Peer over the stream channel (the codec a host uses after `$/hello`), or the
 * JSON-RPC floor's calling side (bench/cases/sidecar.ts `jsonFloorCaller`), whose requests a
 * Writable answers at once with `{"jsonrpc":"2.0","id":N,"result":1}` frames (the ids are 1, 2, 3…
 * on both), all the answers to one write in one chunk, as a read of the socket brings them.
 * CPU or instructions per call are then the caller's JavaScript and garbage per call.
 */
function callSetup(): { op: Op; close(): Promise<void> } {
  const input = new PassThrough()
  let answered = 0
  const answer = (id: number) => {
    const text = `{"jsonrpc":"2.0","id":${id},"result":1}`
    const frame = Buffer.allocUnsafe(4 + text.length)
    frame.writeUInt32BE(text.length, 0)
    frame.write(text, 4, 'latin1')
    return frame
  }
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      done()
      const answers: Buffer[] = []
      for (let at = 0; at + 4 <= chunk.byteLength; at += 4 + chunk.readUInt32BE(at)) answers.push(answer(++answered))
      input.write(answers.length === 1 ? answers[0] : Buffer.concat(answers))
    },
  })
  const channel = streamChannel(input, output)
  if (name === 'call-json') {
    const call = jsonFloorCaller(channel)
    return { op: () => call(1), close: async () => void input.end() }
  }
  const peer = new Peer(channel, { name: 'bench', codec: frameCodec })
  return { op: () => peer.call('echo', [1]), close: () => peer.close() }
}

async function setup(): Promise<{ op: Op; close(): Promise<void> }> {
  if (name === 'serve' || name === 'serve-raw' || name === 'serve-json') return serveSetup()
  if (name === 'call' || name === 'call-json') return callSetup()
  if (NET_SIDES.includes(name)) return netSide(name, arg)
  if (name === 'plain') {
    const plain = { echo: async (x: unknown) => x }
    return { op: () => plain.echo(1), close: async () => {} }
  }
  if (name === 'inline-floor') {
    // The least an inline call does under polyplug's contract, written by hand (bench/inline-floor.ts):
    // against it the inline case's remaining cost is measured.
    const floor = inlineFloor('bench', { echo: (value: unknown) => value })
    return { op: () => floor.call('echo', [arg]), close: async () => void floor.calls }
  }
  if (name === 'port-pair-floor') {
    // The floor of any RPC over a port (bench/port-floor.ts), both ends over one MessageChannel in this thread.
    const { port1, port2 } = new MessageChannel()
    port2.on('message', (request) => port2.postMessage(floorAnswer(request)))
    const call = floorCaller((request) => port1.postMessage(request), (onAnswer) => port1.on('message', onAnswer))
    return { op: () => call('echo', [arg]), close: async () => port1.close() }
  }
  if (name === 'worker-floor') {
    // The js worker row's floor, as the bench drives it (bench/port-peers.ts floorPort).
    const floor = floorPort()
    return { op: () => floor.echo(arg), close: () => floor.close() }
  }
  if (name === 'port-pair' || name === 'port-pair-raw' || name === 'port-pair-birpc') {
    // Both ends in this thread over one MessageChannel: a host Peer and a served plugin over port
    // channels (the worker's path without a second thread), or a raw echo of the number.
    const { port1, port2 } = new MessageChannel()
    if (name === 'port-pair') {
      servePlugin(portChannel(port2), definePlugin({ methods: { echo: (v: unknown) => v } }), { id: 'bench' })
      const peer = new Peer(portChannel(port1), { name: 'bench', timeout: 30_000 })
      return { op: () => peer.call('echo', [arg]), close: () => peer.close() }
    }
    if (name === 'port-pair-birpc') {
      // birpc on both ends, as bench/port-peers.ts and bench/workers/birpc-echo.ts use it.
      createBirpc({ echo: (x: unknown) => x }, { post: (data: unknown) => port2.postMessage(data), on: (fn: (data: unknown) => void) => port2.on('message', fn) })
      const rpc = createBirpc<{ echo(x: unknown): unknown }>({}, { post: (data: unknown) => port1.postMessage(data), on: (fn: (data: unknown) => void) => port1.on('message', fn) })
      return { op: () => rpc.echo(arg), close: async () => { port1.close() } }
    }
    const waiters: ((v: unknown) => void)[] = []
    port1.on('message', (m) => waiters.shift()?.(m))
    port2.on('message', (m) => port2.postMessage(m))
    const op = () => new Promise((resolve) => {
      waiters.push(resolve)
      port1.postMessage(arg)
    })
    return { op, close: async () => port1.close() }
  }
  if (name === 'wasm-worker-raw') {
    // The wasm worker row's baseline: the raw ABI echo in a worker, driven over its port.
    const raw = new Worker(workerPath('raw-wasm.js'), { workerData: { wasm: `${examples}/wasm-c-inline/plugin.wasm` } })
    const input = new TextEncoder().encode(`echo${stringify([arg])}`)
    const waiters: ((v: unknown) => void)[] = []
    raw.on('message', (m) => waiters.shift()?.(m))
    const op = () => new Promise((resolve) => {
      waiters.push(resolve)
      raw.postMessage(input)
    })
    return { op, close: async () => void (await raw.terminate()) }
  }
  if (name === 'worker-birpc' || name === 'worker-comlink') {
    // The js worker row's peers, as the bench drives them (bench/port-peers.ts).
    const peer = name === 'worker-birpc' ? birpcPort() : comlinkPort()
    return { op: () => peer.echo(arg), close: () => peer.close() }
  }
  if (name === 'worker-peer') {
    // The js worker row without the host's API: a bare Peer over the worker's port, the same
    // conformance plugin served there (bench/workers/serve-port.ts); against `worker` it is the
    // cost of the host's layers (handle, lifecycle, runtime, statistics) per call.
    const worker = new Worker(workerPath('serve-port.js'))
    const peer = new Peer(portChannel(worker), { name: 'bench', timeout: timeoutMs })
    return { op: () => peer.call('echo', [arg]), close: async () => { await peer.close(); await worker.terminate() } }
  }
  if (name === 'worker-raw') {
    const raw = new Worker(workerPath('raw-echo.js'))
    const waiters: ((v: unknown) => void)[] = []
    raw.on('message', (m) => waiters.shift()?.(m))
    const op = () => new Promise((resolve) => {
      waiters.push(resolve)
      raw.postMessage(1)
    })
    return { op, close: async () => void (await raw.terminate()) }
  }
  if (name.startsWith('carrier-')) {
    // The Node process carrier serving the conformance plugin, spawned straight (no sandbox, no
    // host), so that PROFILE_CHILD_ARGS (e.g. "--cpu-prof --cpu-prof-dir=prof") reach it.
    const transportName = name.slice('carrier-'.length)
    const transport = await transportModule(transportName)?.sidecar?.host()
    if (!transport) throw new Error(`no transport ${transportName}`)
    const endpoint = await transport.prepare({ id: 'carrier', framing: 'length', maxFrameBytes: 1 << 26 })
    const manifest = JSON.parse(readFileSync(`${examples}/js-process-${transportName}/polyplug.json`, 'utf8')) as { id: string }
    const carrier = fileURLToPath(new URL('../src/placement/process-carrier.js', import.meta.url))
    const child = spawn(process.execPath, [...childArgs(), carrier, `${examples}/js-process-${transportName}/index.js`, JSON.stringify(manifest)], {
      env: { ...process.env, POLYPLUG_TRANSPORT: transportName, POLYPLUG_PLUGIN_ID: manifest.id, POLYPLUG_FRAMING: 'length', POLYPLUG_ENCODING: 'json', ...endpoint.env },
      stdio: [endpoint.usesStdio ? 'pipe' : 'ignore', endpoint.usesStdio ? 'pipe' : 'ignore', 'inherit'],
    })
    const peer = new Peer(await endpoint.connect({ stdin: child.stdin, stdout: child.stdout }, new AbortController().signal), { codec: frameCodec })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    return { op: () => peer.call('echo', [arg]), close: async () => { await peer.close(); await exited; await endpoint.dispose() } }
  }
  if (name === 'http' || name === 'ws') {
    const token = 'bench-token-0123456789abcdef'
    const server = await serveHttpPlugin(definePlugin({ methods: { echo: (v: unknown) => v } }), { id: 'bench', token })
    const peer = new Peer(await connectHttp({ url: server.url, token, calls: name === 'http' ? 'post' : 'ws' }))
    return { op: () => peer.call('echo', [arg]), close: async () => { await peer.close(); await server.close() } }
  }
  if (name === 'mqtt' || name === 'mqtt-raw') {
    const broker = await mqttBroker()
    if (name === 'mqtt-raw') {
      const raw = await rawMqtt(broker.url, broker.user)
      const text = stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [arg] })
      return { op: () => raw.call(text), close: async () => { await raw.close(); await broker.close() } }
    }
    const [host, plugin] = await Promise.all([
      connectMqtt({ url: broker.url, pluginId: 'bench', side: 'host', ...broker.user }),
      connectMqtt({ url: broker.url, pluginId: 'bench', side: 'plugin', ...broker.user }),
    ])
    servePlugin(plugin, definePlugin({ methods: { echo: (v: unknown) => v } }), { id: 'bench' })
    const peer = new Peer(host)
    return { op: () => peer.call('echo', [arg]), close: async () => { await peer.close(); await plugin.close(); await broker.close() } }
  }
  if (name === 'http-json' || name === 'ws-json') {
    const floor = name === 'http-json' ? await jsonHttp() : await jsonWs()
    return { op: () => floor.call(arg), close: () => floor.close() }
  }
  if (name === 'http-raw' || name === 'ws-raw') {
    const raw = name === 'http-raw' ? await rawHttp() : await rawWs()
    const text = stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [arg] })
    return { op: () => raw.call(text), close: () => raw.close() }
  }
  const rawRow = await rawRowSetup()
  if (rawRow) return rawRow
  if (name.endsWith('-raw')) {
    const raw = await rawEcho(name.slice(0, -'-raw'.length), childArgs())
    // The frame polyplug sends for this echo (its codec's own form), echoed back unparsed.
    const small = Buffer.concat([frameCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [arg] })].flat())
    return { op: () => raw.call(small), close: raw.close }
  }
  if (name.endsWith('-json')) {
    const floor = await jsonFloorEcho(name.slice(0, -'-json'.length), childArgs())
    return { op: () => floor.call(arg), close: floor.close }
  }
  const host = await createHost({ plugins: [examples], logger: silentLogger, callTimeoutMs: timeoutMs, startTimeoutMs: timeoutMs })
  const id = name.startsWith('plugin:') ? name.slice('plugin:'.length) : rowPlugins[name] ? rowPlugins[name] : name === 'inline' ? 'echo-inline' : name === 'worker' ? 'echo-worker' : `echo-process-${name}`
  const plugin = host.plugin(id)
  await plugin.activate()
  return { op: () => plugin.call('echo', [arg]), close: () => host.close() }
}

/** User+system CPU µs of every descendant of this process (a sidecar, its children), from /proc. */
function childrenCpu(pid = process.pid): number {
  let total = 0
  let tasks: string[] = []
  try {
    tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)
  } catch {
    return 0
  }
  for (const child of tasks) {
    try {
      const fields = readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')
      total += ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100 // utime, stime in clock ticks
    } catch {
      // gone
    }
    total += childrenCpu(Number(child))
  }
  return total
}

/** Sleeps (voluntary context switches, summed over threads) and read/write system calls of `pid`, and of its descendants with `deep`. */
function wakeCounters(pid: number, deep: boolean): { sleeps: number; syscalls: number } {
  const total = { sleeps: 0, syscalls: 0 }
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8')
      total.sleeps += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0)
    }
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    total.syscalls += Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0)
  } catch {
    return total // gone
  }
  if (!deep) return total
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children: string[] = []
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)
    } catch {
      continue
    }
    for (const child of children) {
      const sub = wakeCounters(Number(child), true)
      total.sleeps += sub.sleeps
      total.syscalls += sub.syscalls
    }
  }
  return total
}

/** The same counters for this process alone and for all its descendants. */
function wakes(): { here: { sleeps: number; syscalls: number }; children: { sleeps: number; syscalls: number } } {
  const here = wakeCounters(process.pid, false)
  const all = wakeCounters(process.pid, true)
  return { here, children: { sleeps: all.sleeps - here.sleeps, syscalls: all.syscalls - here.syscalls } }
}

async function drive(op: Op, count: number): Promise<void> {
  let left = count
  const lane = async () => {
    while (left-- > 0) await op()
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane))
}

const { op, close } = await setup()
await drive(op, Number(process.env.PROFILE_WARMUP ?? (bytes > 0 ? 20 : 2000)))
// PROFILE_HEAP=1: bytes allocated per measured call, in all and by allocating function (bench/heap-sample.ts).
const heap = process.env.PROFILE_HEAP ? await startHeapSampling() : undefined
const cpu0 = process.cpuUsage()
const child0 = childrenCpu()
const wakes0 = wakes()
const t0 = performance.now()
// Two reads of the parent's pid (getppid) mark the measured calls for
// `valgrind --tool=callgrind --dump-before=getppid`: its second dump is these N calls alone.
void process.ppid
await drive(op, n)
void process.ppid
const wall = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const child = childrenCpu() - child0
const wakes1 = wakes()
if (heap && n > 0) await heap.report(n)
// CPU time of this process (all its threads) per call: steadier than wall-clock on a loaded machine.
if (n > 0) {
  const perCall = (us: number) => (us / n).toFixed(3)
  process.stderr.write(
    `${name} x${inFlight}: ${perCall(cpu.user + cpu.system)} µs CPU per call here, ${perCall(child)} in children, ${Math.round((n * 1000) / wall)} calls/s over ${n}\n`,
  )
  // Sleeps are the wake-ups a call costs (a thread that blocks must be woken); read/write calls
  // include the doorbells. Both from /proc, so they count without slowing anything (strace does).
  const per = (a: number, b: number) => ((a - b) / n).toFixed(2)
  process.stderr.write(
    `  sleeps per call: ${per(wakes1.here.sleeps, wakes0.here.sleeps)} here, ${per(wakes1.children.sleeps, wakes0.children.sleeps)} in children; ` +
      `read/write calls per call: ${per(wakes1.here.syscalls, wakes0.here.syscalls)} here, ${per(wakes1.children.syscalls, wakes0.children.syscalls)} in children\n`,
  )
}
// PROFILE_EXIT=1: exit without closing, so that children see their channel end and exit by
// themselves — a child started with --cpu-prof then writes its profile (a signal would lose it).
if (process.env.PROFILE_EXIT !== '1') await close()
process.exit(0)
