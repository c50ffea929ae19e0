/**
 * `node dist/bench/frame-join.js N [DIST]`: the framing layer's cost per 1 MiB frame alone. Encodes
 * one `length` frame of 1 MiB and pushes it N times (after 20 unmeasured) through one FrameDecoder
 * in 64 KiB chunks, each chunk a fresh `Buffer.allocUnsafeSlow` as a socket's read gives; prints
 * the CPU per frame. `process.cpuUsage()` brackets the loop, so under `valgrind --tool=callgrind
 * --dump-before=uv_getrusage` the second dump holds the N frames alone. DIST (default: this
 * build's dist) lets a before build's framing run under the same loop.
 */
import { fileURLToPath } from 'node:url'

const n = Number(process.argv[2] ?? 300)
const dist = process.argv[3] ?? fileURLToPath(new URL('..', import.meta.url))
const { FrameDecoder, encodeFrame } = (await import(`${dist}/src/framing/framing.js`)) as typeof import('../src/framing/framing.js')
const CHUNK = 64 * 1024
const body = new Uint8Array(1 << 20).map((_, i) => i & 255)
const frame = Buffer.concat(encodeFrame('length', body))
const decoder = new FrameDecoder('length', 64 << 20)

function push(frames: number): number {
  let got = 0
  for (let i = 0; i < frames; i++) {
    for (let at = 0; at < frame.byteLength; at += CHUNK) {
      const chunk = Buffer.allocUnsafeSlow(Math.min(CHUNK, frame.byteLength - at))
      frame.copy(chunk, 0, at, at + chunk.byteLength)
      got += decoder.push(chunk).length
    }
  }
  return got
}

push(20)
const cpu0 = process.cpuUsage()
const got = push(n)
const cpu = process.cpuUsage(cpu0)
if (got !== n) throw new Error(`${got} frames out of ${n}`)
process.stdout.write(`${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU per 1 MiB frame over ${n}\n`)
