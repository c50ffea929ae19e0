/**
 * `npm run bench [-- --json] [-- --only NAME] [-- --quick] [-- --svg DIR] [-- --record FILE]`: every
 * transport and runtime against its raw baseline (and a peer library where one exists), in the same
 * run. Ratios matter, not absolute times: these machines are shared and noisy. A ratio is the median
 * of per-round paired ratios, with its interquartile range (bench/measure.ts). `--quick` shortens
 * the throughput and footprint matrices; `--svg DIR` also draws the rows as charts into DIR;
 * `--record FILE` writes the rows with every round's figures (`rounds_of`), which
 * `node dist/bench/spread.js FILE...` compares across runs.
 */
import { parseArgs } from 'node:util'
import { formatTable } from '../src/cli/table.js'
import { machine, writeCharts } from './charts.js'
import { writeFile } from 'node:fs/promises'
import { roundsOf, type BenchRow } from './measure.js'
import { run as faults } from './cases/faults.js'
import { run as js } from './cases/js.js'
import { run as load } from './cases/load.js'
import { run as native } from './cases/native.js'
import { run as pythonNet } from './cases/python-net.js'
import { run as python } from './cases/python.js'
import { run as net } from './cases/net.js'
import { run as cmqtt } from './cases/c-mqtt.js'
import { run as cli } from './cases/cli.js'
import { run as extism } from './cases/extism.js'
import { run as scale } from './cases/scale.js'
import { run as shm } from './cases/shm.js'
import { run as sidecar } from './cases/sidecar.js'
import { run as startup } from './cases/startup.js'
import { run as stream } from './cases/stream.js'
import { run as throughput, setQuick } from './cases/throughput.js'
import { run as footprint, setQuick as setQuickFootprint } from './cases/footprint.js'
import { run as wasm } from './cases/wasm.js'

/** Each case is a module under bench/cases/; add new transports and kinds here. */
const cases: Record<string, () => Promise<BenchRow[]>> = { js, sidecar, shm, net, cmqtt, 'python-net': pythonNet, native, wasm, extism, python, startup, cli, load, stream, faults, scale, throughput, footprint }

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, only: { type: 'string', multiple: true }, quick: { type: 'boolean', default: false }, svg: { type: 'string' }, record: { type: 'string' } } })
setQuick(values.quick)
setQuickFootprint(values.quick)
const started = machine()
const rows: BenchRow[] = []
for (const [name, run] of Object.entries(cases)) {
  if (values.only && !values.only.includes(name)) continue
  if (!values.json) process.stderr.write(`bench: ${name}...\n`)
  rows.push(...(await run()))
}
if (values.json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
} else {
  const cols = ['name', 'kind', 'placement', 'transport', 'metric', 'polyplug', 'baseline', 'ratio', 'ratio IQR', 'p50', 'p99', 'baseline_p50', 'baseline_p99', 'peer', 'peer_value', 'peer_verdict']
  const cell = (r: BenchRow, c: string) => {
    if (c === 'ratio IQR') return r.ratio_q1 === undefined ? '' : `${r.ratio_q1}–${r.ratio_q3}`
    if (c === 'ratio' && r.ratio === null) return r.ratio_note ?? 'none'
    return String((r as unknown as Record<string, unknown>)[c] ?? '')
  }
  process.stdout.write(formatTable(cols, rows.map((r) => cols.map((c) => cell(r, c)))))
  process.stdout.write('times in µs per call (median of interleaved rounds); ratio = polyplug / baseline, the median of per-round paired ratios where both ran in the same rounds, with their interquartile range; stream rows in MiB/s; throughput rows in calls/s (ratio: higher is better); p50/p99 of single calls in µs\n')
}
const ended = machine()
const measuredOn = { ...started, load: `${started.load} at the start, ${ended.load} at the end` }
if (!values.json) process.stdout.write(`measured on ${measuredOn.cpu}, ${measuredOn.cores} cores, Node ${measuredOn.node}, ${measuredOn.date}; load ${measuredOn.load}\n`)
if (values.record) {
  const recordedRows = rows.map((r) => ({ ...r, rounds_of: roundsOf(r) }))
  await writeFile(values.record, `${JSON.stringify({ machine: measuredOn, rows: recordedRows })}\n`)
}
if (values.svg) {
  const files = await writeCharts(rows, values.svg, measuredOn)
  process.stderr.write(`bench: wrote ${files.join(', ')}\n`)
}
