/**
 * Sidecars over stdio, fifo, unix and tcp: a polyplug call to a plugin in its own process (the
 * Node process carrier) against a hand-written raw echo child over the same transport, set up the
 * same way (bench/workers/raw-frame-echo.ts: no RPC, no codec, bytes copied back), and against
 * vscode-jsonrpc over stdio; plus the C and Rust kit sidecars against the same raw child. Two metrics: small-call round trip, and a 1 MiB binary echo.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { encodeWithAttachments } from '../../src/rpc/attachments.js'
import { jsonCodec } from '../../src/rpc/codec.js'
import { msgpackCodec } from '../../src/rpc/msgpack.js'
import { transportModule } from '../../src/registry/index.js'
import type { Channel } from '../../src/channels/channel.js'
import { BIG_PAYLOAD, compare, row, type BenchRow } from '../measure.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))
const worker = (name: string) => fileURLToPath(new URL(`../workers/${name}`, import.meta.url))
const TRANSPORTS = ['stdio', 'fifo', 'unix', 'tcp'] as const
const MiB = 1 << 20

interface RawEcho {
  call(payload: Uint8Array): Promise<unknown>
  close(): Promise<void>
}

/**
 * A hand-written child (bench/workers/SCRIPT) over the sidecar transport `name`: the host end is
 * the transport's framed channel, nothing else. `childArgs` are Node flags for the child (e.g.
 * --cpu-prof); `close` lets it exit by itself when its input ends (so a profile is written), and
 * kills it if it does not within 2 s.
 */
export async function echoChild(name: string, script: string, childArgs: string[] = []): Promise<{ channel: Channel; close(): Promise<void> }> {
  const transport = await transportModule(name)?.sidecar?.host()
  if (!transport) throw new Error(`no transport ${name}`)
  const endpoint = await transport.prepare({ id: 'raw', framing: 'length', maxFrameBytes: 64 * MiB })
  const child = spawn(process.execPath, [...childArgs, worker(script)], {
    env: { ...process.env, POLYPLUG_TRANSPORT: name, ...endpoint.env },
    stdio: [endpoint.usesStdio ? 'pipe' : 'ignore', endpoint.usesStdio ? 'pipe' : 'ignore', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const channel = await endpoint.connect({ stdin: child.stdin, stdout: child.stdout }, new AbortController().signal)
  return {
    channel,
    async close() {
      await channel.close()
      const kill = setTimeout(() => child.kill(), 2000)
      await exited
      clearTimeout(kill)
      await endpoint.dispose()
    },
  }
}

/** The raw baseline: a child that copies the frames back unparsed (bench/workers/raw-frame-echo.ts). */
export async function rawEcho(name: string, childArgs: string[] = []): Promise<RawEcho> {
  const { channel, close } = await echoChild(name, 'raw-frame-echo.js', childArgs)
  const waiters: ((m: unknown) => void)[] = []
  channel.onMessage((m) => waiters.shift()?.(m))
  return {
    call: (payload) => new Promise((resolve) => {
      waiters.push(resolve)
      void channel.send(payload)
    }),
    close,
  }
}

/**
 * The floor of any JSON-RPC sidecar in Node, over the raw echo's channel: the least JSON-RPC on
 * both ends. Here JSON.stringify of each request, JSON.parse of each answer and its id looked up
 * in a Map; in the child (bench/workers/json-frame-echo.ts) JSON.parse and JSON.stringify per
 * message and nothing else — no dispatch table, checks, errors, contexts or statistics.
 */
export async function jsonFloorEcho(name: string, childArgs: string[] = []): Promise<{ call(value: unknown): Promise<unknown>; close(): Promise<void> }> {
  const { channel, close } = await echoChild(name, 'json-frame-echo.js', childArgs)
  return { call: jsonFloorCaller(channel), close }
}

/**
 * The floor's calling side over any byte channel: JSON.stringify of each request, JSON.parse of
 * each answer and its id looked up in a Map (also `profile.js call-json`, in one process).
 */
export function jsonFloorCaller(channel: Channel): (value: unknown) => Promise<unknown> {
  const waiting = new Map<number, (value: unknown) => void>()
  const utf8 = new TextDecoder()
  channel.onMessage((m) => {
    const answer = JSON.parse(utf8.decode(m as Uint8Array)) as { id: number; result: unknown }
    const resolve = waiting.get(answer.id)
    waiting.delete(answer.id)
    resolve?.(answer.result)
  })
  let id = 0
  // The cheapest write the channel has: text encoded into its write buffer, where it offers that.
  const send = channel.sendText ? channel.sendText.bind(channel) : (text: string) => channel.send(Buffer.from(text))
  return (value) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve)
      void send(JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params: [value] }))
    })
}

export async function vscodeJsonRpc() {
  const child = spawn(process.execPath, [worker('vscode-jsonrpc-echo.js')], { stdio: ['pipe', 'pipe', 'inherit'] })
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin))
  connection.listen()
  return {
    echo: (value: unknown) => connection.sendRequest('echo', value),
    close() {
      connection.dispose()
      child.kill()
    },
  }
}

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const rows: BenchRow[] = []
  const peer = await vscodeJsonRpc()
  // What polyplug puts on the wire for echo(1): the raw child echoes the same number of bytes.
  const small = jsonCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
  const big = new Uint8Array(MiB).map((_, i) => i & 255)
  // Every kit here agrees on attachments (docs/protocol.md §4.1): the frame is the JSON head and the raw MiB.
  const bigFrame = Buffer.concat(encodeWithAttachments({ jsonrpc: '2.0', id: 1, method: 'echo', params: [big] }))
  try {
    for (const name of TRANSPORTS) {
      const plugin = host.plugin(`echo-process-${name}`)
      await plugin.activate()
      const raw = await rawEcho(name)
      const floor = await jsonFloorEcho(name)
      try {
        // The JSON-RPC floor over the same channel in the same pass: the least any JSON-RPC sidecar
        // does (its own row, and the peer of the rows that have no well-known one).
        const withPeer = name === 'stdio'
        const ops = [() => plugin.call('echo', [1]), () => raw.call(small), () => floor.call(1), ...(withPeer ? [() => peer.echo(1)] : [])]
        const [p, b, f, v] = await compare(ops)
        const named = v === undefined ? { peer: 'hand-written JSON-RPC floor', peer_value: f! } : { peer: 'vscode-jsonrpc', peer_value: v }
        rows.push(row({ name: `sidecar ${name} echo`, kind: 'js', placement: 'process', transport: name, polyplug: p!, baseline: b!, ...named }))
        rows.push(row({ name: `sidecar ${name} JSON-RPC floor echo`, kind: 'js', placement: 'process', transport: name, polyplug: f!, baseline: b! }))
        const [pb, bb] = await compare([() => plugin.call('echo', [big]), () => raw.call(bigFrame)], BIG_PAYLOAD)
        rows.push(row({ name: `sidecar ${name} 1 MiB echo`, kind: 'js', placement: 'process', transport: name, metric: '1MiB-echo', polyplug: pb!, baseline: bb! }))
      } finally {
        await Promise.all([raw.close(), floor.close()])
      }
    }
    // Sidecars on the C and Rust kits (kits/c-sidecar, kits/rust-sidecar) against the same raw echo child over stdio.
    for (const [id, kind] of [['c-stdio', 'c'], ['rust-stdio', 'rust']] as const) {
      const plugin = host.plugin(id)
      await plugin.activate()
      const raw = await rawEcho('stdio')
      try {
        const [p, b] = await compare([() => plugin.call('echo', [1]), () => raw.call(small)])
        rows.push(row({ name: `sidecar ${kind} stdio echo`, kind: `exec (${kind})`, placement: 'process', transport: 'stdio', polyplug: p!, baseline: b! }))
        const [pb, bb] = await compare([() => plugin.call('echo', [big]), () => raw.call(bigFrame)], BIG_PAYLOAD)
        rows.push(row({ name: `sidecar ${kind} stdio 1 MiB echo`, kind: `exec (${kind})`, placement: 'process', transport: 'stdio', metric: '1MiB-echo', polyplug: pb!, baseline: bb! }))
      } finally {
        await raw.close()
      }
    }
    // MessagePack carries bytes as bytes: no base64 on the way.
    const packed = host.plugin('echo-process-unix-msgpack')
    await packed.activate()
    const raw = await rawEcho('unix')
    try {
      const frame = msgpackCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [big] })
      const [p, b] = await compare([() => packed.call('echo', [big]), () => raw.call(frame)], BIG_PAYLOAD)
      rows.push(row({ name: 'sidecar unix msgpack 1 MiB echo', kind: 'js', placement: 'process', transport: 'unix', metric: '1MiB-echo', polyplug: p!, baseline: b! }))
      const [ps, bs] = await compare([() => packed.call('echo', [1]), () => raw.call(msgpackCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] }))])
      rows.push(row({ name: 'sidecar unix msgpack echo', kind: 'js', placement: 'process', transport: 'unix', polyplug: ps!, baseline: bs! }))
    } finally {
      await raw.close()
    }
  } finally {
    peer.close()
    await host.close()
  }
  return rows
}
