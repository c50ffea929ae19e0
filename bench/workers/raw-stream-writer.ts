/**
 * The raw baseline of the stream rows (bench/cases/stream.ts): a child process that writes
 * `total` bytes in `size`-byte chunks over one transport, honouring backpressure, with no RPC,
 * framing or codec. Usage: raw-stream-writer MODE ADDRESS TOTAL SIZE, MODE stdio|unix|tcp|ws.
 */
import { connect, type Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { WebSocket } from 'ws'

const [mode, address, totalArg, sizeArg] = process.argv.slice(2)
const total = Number(totalArg)
const chunk = new Uint8Array(Number(sizeArg)).map((_, i) => i & 255)

async function pump(out: Writable): Promise<void> {
  for (let sent = 0; sent < total; sent += chunk.byteLength) {
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r))
  }
  await new Promise<void>((r) => out.end(r))
}

if (mode === 'stdio') {
  await pump(process.stdout)
} else if (mode === 'unix' || mode === 'tcp') {
  const socket: Socket = mode === 'unix' ? connect(address!) : connect(Number(address!.split(':')[1]), address!.split(':')[0])
  socket.setNoDelay?.(true)
  await new Promise((r) => socket.once('connect', r))
  await pump(socket)
} else if (mode === 'ws') {
  const ws = new WebSocket(address!, { perMessageDeflate: false })
  await new Promise((r) => ws.once('open', r))
  for (let sent = 0; sent < total; sent += chunk.byteLength) {
    await new Promise<void>((resolve, reject) => ws.send(chunk, (error) => (error ? reject(error) : resolve())))
  }
  ws.close()
}
