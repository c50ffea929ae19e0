// The floor of a JSON-RPC sidecar in Node, the part that answers: cut each `length` frame out of
// what one read brought, JSON.parse it, answer `{"jsonrpc":"2.0","id":…,"result":params[0]}` with
// JSON.stringify, and write the answers of one read in one write. No dispatch table, no checks, no
// errors, no polyplug code. The floor's child (json-frame-echo.ts) runs it over its channel;
// `profile.js serve-json` runs it in one process beside `serve`, the served plugin's side alone.
import type { Writable } from 'node:stream'

/** The `data` listener of the floor's child: answers every whole frame of `chunk` on `writable`. */
export function jsonFrameAnswerer(writable: Writable): (chunk: Buffer) => void {
  let pending: Buffer | undefined
  return (chunk) => {
    const data = pending ? Buffer.concat([pending, chunk]) : chunk
    pending = undefined
    const out = Buffer.allocUnsafe(Math.max(4096, data.byteLength * 3))
    let at = 0
    let written = 0
    while (data.byteLength - at >= 4) {
      const size = data.readUInt32BE(at)
      if (data.byteLength - at - 4 < size) break
      const request = JSON.parse(data.toString('utf8', at + 4, at + 4 + size)) as { id: number; params: unknown[] }
      const answer = JSON.stringify({ jsonrpc: '2.0', id: request.id, result: request.params[0] })
      const length = out.write(answer, written + 4)
      out.writeUInt32BE(length, written)
      written += 4 + length
      at += 4 + size
    }
    if (at < data.byteLength) pending = data.subarray(at)
    if (written > 0) writable.write(out.subarray(0, written))
  }
}
