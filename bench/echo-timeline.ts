/**
 * `node dist/bench/echo-timeline.js TRACE [BYTES]`: the shape of a large echo's round trip, from
 * `strace -f -ttt -e trace=read,write,writev -o TRACE node dist/bench/profile.js CASE N BYTES` (a
 * sidecar case and its `-raw` twin). The first process in the trace is the host, any other the
 * child. A call starts at the host's first write of 4 KiB or more after the previous call ended
 * and ends when the host has read BYTES (default 1 MiB) back; per call it notes, in ms after that
 * write, when the child read its first byte and the whole request, when it wrote its first byte
 * back, and when the host read the answer's first byte and all of it. Printed: the median and
 * quartiles of each over the calls (the first three left out), and the reads and writes per call
 * on each side within those calls. An RPC answers once the whole request arrived; the raw echo child writes each
 * chunk back as it arrives: this shows by how much the two overlap, whatever the load did to
 * their wall clocks.
 */
import { readFileSync } from 'node:fs'
import { formatTable } from '../src/cli/table.js'
import { percentile, round } from './measure.js'

const [file, bytesArg] = process.argv.slice(2)
if (!file) throw new Error('usage: echo-timeline TRACE [BYTES]')
const bytes = Number(bytesArg ?? 1 << 20)

interface Call {
  t0: number
  childIn: number
  hostIn: number
  marks: Partial<Record<Mark, number>>
}
const MARKS = ['child first byte', 'child has the request', 'child first write back', 'host first answer byte', 'host has the answer'] as const
type Mark = (typeof MARKS)[number]

const line = /^(\d+)\s+([\d.]+)\s+(read|write|writev)\(\d+,.*\)\s+=\s+(-?\d+)/
let host: string | undefined
let current: Call | undefined
const calls: Call[] = []
const counts = new Map<string, number>()
for (const text of readFileSync(file, 'utf8').split('\n')) {
  const m = line.exec(text)
  if (!m) continue
  const [, pid, time, call, result] = m as unknown as [string, string, string, string, string]
  host ??= pid
  const n = Number(result)
  if (n <= 0) continue
  const side = pid === host ? 'host' : 'child'
  const kind = call === 'read' ? 'read' : 'write'
  const t = Number(time)
  if (!current) {
    if (side === 'host' && kind === 'write' && n >= 4096) current = { t0: t, childIn: 0, hostIn: 0, marks: {} }
    else continue
  }
  counts.set(`${side} ${kind}s`, (counts.get(`${side} ${kind}s`) ?? 0) + 1)
  const mark = (name: Mark) => (current!.marks[name] ??= (t - current!.t0) * 1000)
  if (side === 'child' && kind === 'read') {
    mark('child first byte')
    current.childIn += n
    if (current.childIn >= bytes) mark('child has the request')
  } else if (side === 'child') mark('child first write back')
  else if (kind === 'read' && n > 100) {
    mark('host first answer byte')
    current.hostIn += n
    if (current.hostIn >= bytes) {
      mark('host has the answer')
      calls.push(current)
      current = undefined
    }
  }
}
const measured = calls.slice(3)
const rows = MARKS.map((name) => {
  const values = measured.map((c) => c.marks[name]).filter((v): v is number => v !== undefined)
  return [name, ...[0.5, 0.25, 0.75].map((q) => String(round(percentile(values, q), 3)))]
})
console.log(`${file}: ${measured.length} calls (of ${calls.length}); ms after the host's write of the request`)
process.stdout.write(formatTable(['mark', 'median', 'q1', 'q3'], rows))
console.log([...counts].map(([k, v]) => `${k} ${round(v / calls.length, 1)}`).join(', '), 'per call (those calls, from the host\'s write of the request to its read of the answer\'s last byte)')
