/**
 * The bench's report machinery (not its figures, which live in `npm run bench`): how a row states
 * its percentiles and its peer verdict, how throughput is counted, and that `--svg` draws each
 * kind of row into its own chart with the machine it was measured on; and that a floor beside a
 * row does the work it stands for.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { writeCharts } from '../bench/charts.js'
import { row, throughput, type BenchRow } from '../bench/measure.js'
import { jsonHttp, jsonWs } from '../bench/cases/net.js'
import { jsonFloorEcho } from '../bench/cases/sidecar.js'

const timing = (value: number, p50: number, p99: number) => ({ value, p50, p99 })

describe('a bench row', () => {
  it('carries the p50/p99 of both sides when they were measured', () => {
    const r = row({ name: 'x', kind: 'js', placement: 'inline', transport: 'direct', polyplug: timing(4, 3, 9), baseline: timing(2, 1.5, 5) })
    assert.deepEqual([r.polyplug, r.baseline, r.ratio, r.p50, r.p99, r.baseline_p50, r.baseline_p99], [4, 2, 2, 3, 9, 1.5, 5])
  })

  it('has no ratio, and says why, where the baseline reads at or below zero (a marginal figure below its resolution)', () => {
    const fields = { name: 'x', kind: 'python', placement: 'inline', transport: 'direct', metric: 'JS + Python heap per idle plugin', unit: 'MiB' }
    const below = row({ ...fields, polyplug: 0.06, baseline: -0.01 })
    assert.equal(below.ratio, null)
    assert.match(below.ratio_note ?? '', /no ratio: the baseline reads -0\.01 MiB, at or below zero/)
    assert.equal(row({ ...fields, polyplug: 0.06, baseline: 0 }).ratio, null)
    const above = row({ ...fields, polyplug: 0.06, baseline: 0.03 })
    assert.deepEqual([above.ratio, above.ratio_note], [2, undefined])
  })

  it('says which of polyplug and the peer is faster: lower wins for times, higher for rates', () => {
    const fields = { name: 'x', kind: 'js', placement: 'worker', transport: 'port', baseline: 1 }
    assert.equal(row({ ...fields, polyplug: 10, peer: 'birpc', peer_value: 15 }).peer_verdict, 'polyplug 1.5× faster')
    assert.equal(row({ ...fields, polyplug: 10, peer: 'birpc', peer_value: 15, unit: 'calls/s' }).peer_verdict, 'peer 1.5× faster')
    assert.equal(row({ ...fields, polyplug: 10, metric: 'startup', unit: 'ms' }).peer_verdict, undefined)
  })
})

describe('throughput under concurrency', () => {
  it('keeps the asked number of calls in flight and counts calls per second', async () => {
    let inFlight = 0
    let most = 0
    const op = async () => {
      most = Math.max(most, ++inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
    }
    const [t] = await throughput([op], 16, { ms: 20, rounds: 1 })
    assert.equal(most, 16)
    assert.ok(t!.value > 0 && t!.p50 > 0 && t!.p99 >= t!.p50, JSON.stringify(t))
  })
})

describe('npm run bench -- --svg DIR', () => {
  const rows: BenchRow[] = [
    row({ name: 'js inline echo', kind: 'js', placement: 'inline', transport: 'direct', polyplug: timing(3, 2.5, 9), baseline: timing(0.5, 0.4, 2) }),
    row({ name: 'js worker echo throughput', kind: 'js', placement: 'worker', transport: 'port', metric: '16 in flight', unit: 'calls/s', polyplug: timing(9000, 80, 400), baseline: timing(40000, 60, 200), peer: 'birpc', peer_value: 7000 }),
    row({ name: 'first call, wasm worker', kind: 'wasm', placement: 'worker', transport: 'port', metric: 'time to first call', unit: 'ms', polyplug: 60, baseline: 50 }),
  ]
  const machine = { cpu: 'Test CPU', cores: 2, load: '12.0 / 11.0 / 10.0', date: '2026-12-05T10:00:00Z', node: 'v20.0.0' }

  it('draws ratio, latency, throughput and footprint charts, each naming the machine, its load and the date', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-svg-'))
    try {
      await writeCharts(rows, dir, machine)
      assert.deepEqual((await readdir(dir)).sort(), ['footprint.svg', 'latency.svg', 'ratio.svg', 'rows.json', 'throughput.svg'])
      for (const file of ['footprint.svg', 'latency.svg', 'ratio.svg', 'throughput.svg']) {
        const svg = await readFile(join(dir, file), 'utf8')
        assert.match(svg, /^<svg /)
        assert.match(svg, /Test CPU, 2 cores, load 12\.0 \/ 11\.0 \/ 10\.0/)
        assert.match(svg, /2026-12-05/)
      }
      assert.match(await readFile(join(dir, 'throughput.svg'), 'utf8'), /birpc/)
      assert.match(await readFile(join(dir, 'ratio.svg'), 'utf8'), /js inline echo/)
      assert.deepEqual(JSON.parse(await readFile(join(dir, 'rows.json'), 'utf8')).rows, rows)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('draws one bar per round-trip row in the ratio chart, from 1 to its ratio, even where two peers share the row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-svg-'))
    const worker = { name: 'js worker echo', kind: 'js', placement: 'worker', transport: 'port', polyplug: timing(40, 30, 90), baseline: timing(80, 60, 200) }
    try {
      // A ratio above 1, one below 1, and the worker row twice (measured against birpc and against comlink).
      await writeCharts([rows[0]!, row({ ...worker, peer: 'birpc', peer_value: 50 }), row({ ...worker, peer: 'comlink', peer_value: 60 })], dir, machine)
      const svg = await readFile(join(dir, 'ratio.svg'), 'utf8')
      const bars = svg.slice(svg.indexOf('mark-rect'), svg.indexOf('</g>', svg.indexOf('mark-rect')))
      const widths = [...bars.matchAll(/d="M[-\d.]+,[-\d.]+h([-\d.]+)v/g)].map((m) => Number(m[1]))
      assert.equal(widths.length, 2, 'one bar per row')
      assert.ok(widths.every((w) => Math.abs(w) > 1), `every bar has a length: ${widths.join(', ')}`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('leaves out a chart that no row feeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-svg-'))
    try {
      await writeCharts(rows.slice(0, 1), dir, machine)
      assert.deepEqual((await readdir(dir)).sort(), ['latency.svg', 'ratio.svg', 'rows.json'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('the hand-written JSON-RPC floor beside the http and ws rows', () => {
  for (const [name, open] of [['http', jsonHttp], ['ws', jsonWs]] as const) {
    it(`over ${name}: each call, many in flight, is answered with its own value (routed by id)`, async () => {
      const floor = await open()
      try {
        const values = Array.from({ length: 64 }, (_, i) => ({ n: i, text: `é${i}` }))
        assert.deepEqual(await Promise.all(values.map((v) => floor.call(v))), values)
      } finally {
        await floor.close()
      }
    })
  }
})

describe('the hand-written JSON-RPC floor beside the sidecar rows', () => {
  for (const name of ['stdio', 'fifo', 'unix', 'tcp']) {
    it(`over ${name}: each call, many in flight, is answered with its own value (routed by id)`, async () => {
      const floor = await jsonFloorEcho(name)
      try {
        const values = Array.from({ length: 64 }, (_, i) => ({ n: i, text: `é${i}` }))
        assert.deepEqual(await Promise.all(values.map((v) => floor.call(v))), values)
      } finally {
        await floor.close()
      }
    })
  }
})
