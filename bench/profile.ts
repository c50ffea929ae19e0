/**
 * `node dist/bench/profile.js CASE N`: sets up one bench case, warms it up, then makes N
 * sequential awaited calls and exits. Run it under `valgrind --tool=callgrind` (or `node
 * --cpu-prof`) with N and with 0: the difference divided by N is the cost of one call in
 * instructions, which — unlike wall-clock time — the load of a shared machine does not move.
 * Cases: plain, inline, worker, worker-raw, and SIDECAR / SIDECAR-raw for stdio, fifo, unix, tcp.
 * A third argument BYTES echoes a Uint8Array of that size instead of the number 1 (sidecar cases).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { binaryJsonCodec as frameCodec } from '../src/rpc/attachments.js'
import { transportModule } from '../src/registry/index.js'

const examples = fileURLToPath(new URL('../../examples', import.meta.url))
const workerPath = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url))
const [name = 'inline', count = '10000'] = process.argv.slice(2)
const n = Number(count)
const bytes = Number(process.argv[4] ?? 0)
const arg: unknown = bytes > 0 ? new Uint8Array(bytes).map((_, i) => i & 255) : 1

type Op = () => Promise<unknown>

async function setup(): Promise<{ op: Op; close(): Promise<void> }> {
  if (name === 'plain') {
    const plain = { echo: async (x: unknown) => x }
    return { op: () => plain.echo(1), close: async () => {} }
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
  if (name.endsWith('-raw')) {
    const transportName = name.slice(0, -'-raw'.length)
    const transport = await transportModule(transportName)?.sidecar?.host()
    if (!transport) throw new Error(`no transport ${transportName}`)
    const endpoint = await transport.prepare({ id: 'raw', framing: 'length', maxFrameBytes: 1 << 26 })
    const child = spawn(process.execPath, [workerPath('raw-frame-echo.js')], {
      env: { ...process.env, POLYPLUG_TRANSPORT: transportName, ...endpoint.env },
      stdio: [endpoint.usesStdio ? 'pipe' : 'ignore', endpoint.usesStdio ? 'pipe' : 'ignore', 'inherit'],
    })
    const channel = await endpoint.connect({ stdin: child.stdin, stdout: child.stdout }, new AbortController().signal)
    const waiters: ((m: unknown) => void)[] = []
    channel.onMessage((m) => waiters.shift()?.(m))
    // The frame polyplug sends for this echo (its codec's own form), echoed back unparsed.
    const small = Buffer.concat([frameCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [arg] })].flat())
    const op = () => new Promise((resolve) => {
      waiters.push(resolve)
      void channel.send(small)
    })
    return { op, close: async () => { await channel.close(); child.kill(); await endpoint.dispose() } }
  }
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const id = name === 'inline' ? 'echo-inline' : name === 'worker' ? 'echo-worker' : `echo-process-${name}`
  const plugin = host.plugin(id)
  await plugin.activate()
  return { op: () => plugin.call('echo', [arg]), close: () => host.close() }
}

const { op, close } = await setup()
for (let i = 0; i < (bytes > 0 ? 20 : 2000); i++) await op()
const cpu0 = process.cpuUsage()
for (let i = 0; i < n; i++) await op()
const cpu = process.cpuUsage(cpu0)
// CPU time of this process (all its threads) per call: steadier than wall-clock on a loaded machine.
if (n > 0) process.stderr.write(`${name}: ${((cpu.user + cpu.system) / n).toFixed(3)} µs CPU per call over ${n}\n`)
await close()
process.exit(0)
