/**
 * Stream throughput (docs/protocol.md §7.1): the host consumes a bytes stream from a plugin
 * (bench/stream-plugins) with `for await`, in MiB/s, against the raw transport moving the same
 * bytes in the same chunks from a child process with no RPC, framing or codec
 * (bench/workers/raw-stream-writer.ts). For shm the baseline is the raw ring echo of one chunk,
 * counting the bytes of both directions (there is no one-way raw writer for the rings).
 * Columns: polyplug and baseline in MiB/s; ratio = polyplug / baseline (higher is better).
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { createHost, type Host } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { median, row, type BenchRow } from '../measure.js'
import { startRawProcessEcho } from '../shm-raw.js'

const MiB = 1 << 20
const TOTAL = 32 * MiB
const CHUNK = 256 * 1024
const ROUNDS = 3
const plugins = fileURLToPath(new URL('../../../bench/stream-plugins', import.meta.url))
const writer = fileURLToPath(new URL('../workers/raw-stream-writer.js', import.meta.url))
const rawEchoC = fileURLToPath(new URL('../shm-raw-echo', import.meta.url))

async function polyplugMiBs(host: Host, id: string): Promise<number> {
  const t0 = performance.now()
  let bytes = 0
  for await (const chunk of await host.plugin(id).call<AsyncIterable<Uint8Array>>('flood', [TOTAL, CHUNK])) bytes += chunk.byteLength
  if (bytes !== TOTAL) throw new Error(`${id}: got ${bytes} of ${TOTAL} bytes`)
  return bytes / MiB / ((performance.now() - t0) / 1000)
}

/** Runs the raw writer over `mode`; timed from the first byte read (not the child's start-up) to the last. */
async function rawMiBs(mode: 'stdio' | 'unix' | 'tcp' | 'ws'): Promise<number> {
  let t0 = 0
  let bytes = 0
  const count = (n: number) => {
    if (bytes === 0) t0 = performance.now()
    bytes += n
  }
  if (mode === 'stdio') {
    const child = spawn(process.execPath, [writer, 'stdio', '-', String(TOTAL), String(CHUNK)], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout.on('data', (c: Buffer) => count(c.byteLength))
    await new Promise((r) => child.stdout.once('end', r))
  } else if (mode === 'ws') {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * MiB })
    await new Promise((r) => wss.once('listening', r))
    const done = new Promise<void>((resolve) =>
      wss.once('connection', (s) => {
        s.on('message', (data: Buffer) => count(data.byteLength))
        s.once('close', () => resolve())
      }),
    )
    const child = spawn(process.execPath, [writer, 'ws', `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, String(TOTAL), String(CHUNK)], { stdio: 'inherit' })
    await done
    await new Promise((r) => child.once('exit', r))
    await new Promise((r) => wss.close(r))
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'polyplug-bench-'))
    const server: Server = createServer()
    const done = new Promise<void>((resolve) =>
      server.once('connection', (s) => {
        s.on('data', (c: Buffer) => count(c.byteLength))
        s.once('end', () => resolve())
      }),
    )
    const where = mode === 'unix' ? join(dir, 's') : 0
    await new Promise<void>((r) => (mode === 'unix' ? server.listen(where, r) : server.listen(0, '127.0.0.1', r)))
    const address = mode === 'unix' ? (where as string) : `127.0.0.1:${(server.address() as AddressInfo).port}`
    spawn(process.execPath, [writer, mode, address, String(TOTAL), String(CHUNK)], { stdio: 'inherit' })
    await done
    await new Promise((r) => server.close(r))
    rmSync(dir, { recursive: true, force: true })
  }
  if (bytes !== TOTAL) throw new Error(`raw ${mode}: got ${bytes} of ${TOTAL} bytes`)
  return bytes / MiB / ((performance.now() - t0) / 1000)
}

async function rawShmMiBs(): Promise<number> {
  const raw = startRawProcessEcho(rawEchoC)
  try {
    const chunk = new Uint8Array(CHUNK).map((_, i) => i & 255)
    await raw.ring.roundTrip(chunk)
    const t0 = performance.now()
    let bytes = 0
    while (bytes < TOTAL) {
      await raw.ring.roundTrip(chunk)
      bytes += 2 * CHUNK // out and back
    }
    return bytes / MiB / ((performance.now() - t0) / 1000)
  } finally {
    await raw.stop()
  }
}

const cases: { id: string; placement: string; transport: string; raw?: () => Promise<number>; note?: string }[] = [
  { id: 'inline', placement: 'inline', transport: 'direct' },
  { id: 'worker', placement: 'worker', transport: 'port' },
  { id: 'stdio', placement: 'process', transport: 'stdio', raw: () => rawMiBs('stdio'), note: 'json' },
  { id: 'stdio-msgpack', placement: 'process', transport: 'stdio', raw: () => rawMiBs('stdio'), note: 'msgpack' },
  { id: 'unix', placement: 'process', transport: 'unix', raw: () => rawMiBs('unix'), note: 'json' },
  { id: 'unix-msgpack', placement: 'process', transport: 'unix', raw: () => rawMiBs('unix'), note: 'msgpack' },
  { id: 'tcp', placement: 'process', transport: 'tcp', raw: () => rawMiBs('tcp'), note: 'json' },
  { id: 'ws', placement: 'process', transport: 'ws', raw: () => rawMiBs('ws'), note: 'json text frames' },
  { id: 'shm', placement: 'process', transport: 'shm', raw: rawShmMiBs, note: 'msgpack; baseline: raw ring echo' },
]

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [plugins], logger: silentLogger, callTimeoutMs: 120_000 })
  const rows: BenchRow[] = []
  try {
    for (const c of cases) {
      const id = `bench-stream-${c.id}`
      await host.plugin(id).activate()
      await polyplugMiBs(host, id) // warm-up
      const ours: number[] = []
      const raw: number[] = []
      for (let r = 0; r < ROUNDS; r++) {
        ours.push(await polyplugMiBs(host, id))
        if (c.raw) raw.push(await c.raw())
      }
      rows.push(
        row({
          name: `stream ${TOTAL / MiB} MiB in ${CHUNK / 1024} KiB chunks, ${c.id}${c.note ? ` (${c.note})` : ''}`,
          kind: 'js',
          placement: c.placement,
          transport: c.transport,
          metric: 'stream-throughput',
          unit: 'MiB/s',
          polyplug: median(ours),
          baseline: c.raw ? median(raw) : NaN,
        }),
      )
      await host.plugin(id).stop()
    }
  } finally {
    await host.close()
  }
  return rows
}
