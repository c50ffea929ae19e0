/**
 * `npm run bench -- --svg DIR`: the rows of one run drawn as SVG charts with Vega-Lite (rendered
 * headless, no DOM), plus the rows themselves as rows.json. Each chart's subtitle names the
 * machine, its load and the date, since wall-clock figures mean nothing without them.
 *
 * - ratio.svg: polyplug / raw per round-trip row (lower is better; 1 = as fast as raw)
 * - latency.svg: p50 and p99 of single calls, polyplug against raw, per round-trip row
 * - throughput.svg: calls/s over 1, 16 and 256 calls in flight, polyplug / raw / peer, per transport
 * - footprint.svg: time and CPU to first call and idle RSS against the bare cost, per kind and
 *   placement, first and second plugin
 *
 * `node dist/bench/charts.js RUN/rows.json DIR` draws a run's charts again from its rows.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { BenchRow } from './measure.js'

export interface Machine {
  cpu: string
  cores: number
  load: string
  date: string
  node: string
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown cpu',
    cores: cpus().length,
    load: loadavg().map((l) => l.toFixed(1)).join(' / '),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
  }
}

const caption = (m: Machine) => `${m.cpu}, ${m.cores} cores, load ${m.load} (1/5/15 min), Node ${m.node}, ${m.date}`
const label = (r: BenchRow) => (r.metric === 'round-trip' ? r.name : `${r.name} (${r.metric})`)
const isRoundTrip = (r: BenchRow) => r.unit === 'us' && r.p50 !== undefined

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  return view.toSVG()
}

/** One row per name and metric: a row measured against two peers appears twice in the run. */
function roundTrips(rows: BenchRow[]): BenchRow[] {
  const seen = new Set<string>()
  return rows.filter(isRoundTrip).filter((r) => {
    const key = label(r)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Row labels in full (Vega-Lite cuts them at 180 px by default). */
const rowAxis = { field: 'row', type: 'nominal', sort: null, title: null, axis: { labelLimit: 400 } } as const

function ratioChart(rows: BenchRow[], m: Machine): TopLevelSpec | undefined {
  const values = roundTrips(rows).map((r) => ({ row: label(r), ratio: r.ratio, transport: r.transport }))
  if (values.length === 0) return undefined
  return {
    title: { text: 'polyplug / raw, per round trip (1 = as fast as raw; lower is better)', subtitle: caption(m) },
    data: { values },
    width: 520,
    layer: [
      // Each bar runs from 1 (as fast as raw) to the row's ratio: on a log scale a bar from 0 has no start.
      { mark: 'bar', encoding: { y: rowAxis, x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'ratio (log scale)', stack: null }, x2: { datum: 1 }, color: { field: 'transport', type: 'nominal', scale: { scheme: 'tableau20' } } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { x: { datum: 1 } } },
    ],
  }
}

function latencyChart(rows: BenchRow[], m: Machine): TopLevelSpec | undefined {
  const values = roundTrips(rows).flatMap((r) => [
    { row: label(r), series: 'polyplug p50', us: r.p50 },
    { row: label(r), series: 'polyplug p99', us: r.p99 },
    { row: label(r), series: 'raw p50', us: r.baseline_p50 },
    { row: label(r), series: 'raw p99', us: r.baseline_p99 },
  ])
  if (values.length === 0) return undefined
  return {
    title: { text: 'single-call latency, µs: p50 and p99, polyplug against raw', subtitle: caption(m) },
    data: { values },
    width: 520,
    mark: { type: 'point', filled: true, size: 60 },
    encoding: {
      y: rowAxis,
      x: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'µs (log scale)' },
      color: { field: 'series', type: 'nominal', scale: { range: ['#1f77b4', '#0b3c61', '#ff7f0e', '#8c4300'] } },
      shape: { field: 'series', type: 'nominal' },
    },
  }
}

function throughputChart(rows: BenchRow[], m: Machine): TopLevelSpec | undefined {
  const tp = rows.filter((r) => r.unit === 'calls/s' && / in flight$/.test(r.metric))
  if (tp.length === 0) return undefined
  const values: { subject: string; inFlight: number; side: string; rate: number }[] = []
  const seen = new Set<string>()
  for (const r of tp) {
    const inFlight = Number.parseInt(r.metric, 10)
    const subject = r.name.replace(/ throughput$/, '')
    const key = `${subject}|${inFlight}`
    if (!seen.has(key)) {
      seen.add(key)
      values.push({ subject, inFlight, side: 'polyplug', rate: r.polyplug }, { subject, inFlight, side: 'raw', rate: r.baseline })
    }
    if (r.peer && r.peer_value !== undefined) values.push({ subject, inFlight, side: r.peer, rate: r.peer_value })
  }
  return {
    title: { text: 'throughput, calls/s, over calls in flight (higher is better)', subtitle: caption(m) },
    data: { values },
    facet: { field: 'subject', type: 'nominal', title: null, sort: null },
    columns: 3,
    spec: {
      width: 170,
      height: 130,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'inFlight', type: 'quantitative', scale: { type: 'log', domain: [1, 256] }, axis: { values: [1, 16, 256] }, title: 'in flight' },
        y: { field: 'rate', type: 'quantitative', scale: { type: 'log' }, title: 'calls/s' },
        color: { field: 'side', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  }
}

function footprintChart(rows: BenchRow[], m: Machine): TopLevelSpec | undefined {
  // First and second plugin of a subject are two bars (bench/cases/footprint.ts); the host's own rows have metrics of their own, and the floor rows stay in the table.
  const metrics = ['time to first call', 'CPU to first call', 'RSS per idle plugin']
  const values = rows.filter((r) => metrics.includes(r.metric) && !r.name.includes(', floor: ')).map((r) => ({ subject: `${r.kind} ${r.placement}${r.name.startsWith('second plugin') ? ', 2nd' : ''}`, metric: r.metric, ratio: r.ratio }))
  if (values.length === 0) return undefined
  return {
    title: { text: 'cost at start and at rest: polyplug / bare (goal ≤ 1.2)', subtitle: caption(m) },
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 240,
      layer: [
        { mark: 'bar', encoding: { y: { field: 'subject', type: 'nominal', title: null }, x: { field: 'ratio', type: 'quantitative', title: 'polyplug / bare' } } },
        { mark: { type: 'rule', color: 'red' }, encoding: { x: { datum: 1.2 } } },
      ],
    },
  } as TopLevelSpec
}

/** Writes the charts that the rows allow (a chart with no rows of its kind is skipped) and rows.json. Returns the files written. */
export async function writeCharts(rows: BenchRow[], dir: string, m: Machine = machine()): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const charts = { 'ratio.svg': ratioChart, 'latency.svg': latencyChart, 'throughput.svg': throughputChart, 'footprint.svg': footprintChart }
  const written: string[] = []
  for (const [file, make] of Object.entries(charts)) {
    const spec = make(rows, m)
    if (!spec) continue
    await writeFile(join(dir, file), await render(spec))
    written.push(join(dir, file))
  }
  await writeFile(join(dir, 'rows.json'), `${JSON.stringify({ machine: m, rows }, null, 2)}\n`)
  written.push(join(dir, 'rows.json'))
  return written
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [from, dir] = process.argv.slice(2)
  if (!from || !dir) throw new Error('usage: node dist/bench/charts.js RUN/rows.json DIR')
  const run = JSON.parse(await readFile(from, 'utf8')) as { machine: Machine; rows: BenchRow[] }
  process.stderr.write(`charts: wrote ${(await writeCharts(run.rows, dir, run.machine)).join(', ')}\n`)
}
