/** What host.stats(), host.memory() and host.logs() tell about each plugin: the figures behind the dashboard and /metrics. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { LATENCY_BUCKETS_MS, SAMPLE_EVERY, TIMED_FIRST } from '../src/host/stats.js'
import { until } from './support/wait.js'
import { examplesDir } from './support/paths.js'

describe('host observability', () => {
  let host: Host
  before(async () => {
    host = await createHost({ plugins: [examplesDir], logger: () => {}, restart: { baseDelayMs: 1, maxCrashes: 1 } })
  })
  after(() => host.close())
  const stats = (id: string) => host.stats().find((s) => s.id === id)!

  it('counts errors by code and fills a latency histogram with every call', async () => {
    const p = host.plugin('echo-worker')
    for (let i = 0; i < 5; i++) await p.call('echo', [i])
    await assert.rejects(p.call('fail', ['E_ONE']))
    await assert.rejects(p.call('fail', ['E_ONE']))
    await assert.rejects(p.call('fail', ['E_TWO']))
    const s = stats('echo-worker')
    assert.deepEqual(s.errorsByCode, { E_ONE: 2, E_TWO: 1 })
    assert.deepEqual(s.methods.fail?.errorsByCode, { E_ONE: 2, E_TWO: 1 })
    const echo = s.methods.echo!
    assert.equal(echo.latency.counts.length, LATENCY_BUCKETS_MS.length + 1)
    assert.equal(echo.latency.counts.reduce((a, b) => a + b, 0), 5)
    assert.ok(echo.latency.sumMs > 0)
    assert.ok((s.uptimeMs ?? -1) >= 0)
  })

  it('counts every call of an inline plugin, sync or async, failed or not, in a histogram that adds up to the calls', async () => {
    const p = host.plugin('echo-inline')
    const calls = TIMED_FIRST + 3 * SAMPLE_EVERY
    for (let i = 0; i < calls; i++) assert.equal(await p.call('echo', [i]), i)
    await assert.rejects(p.call('fail', ['E_INLINE']))
    await assert.rejects(p.call('nope'))
    assert.equal(await p.call('sleep', [20]), 20)
    const s = stats('echo-inline')
    assert.equal(s.calls, calls + 3)
    assert.deepEqual(s.errorsByCode, { E_INLINE: 1, METHOD_NOT_FOUND: 1 })
    const echo = s.methods.echo!
    assert.equal(echo.calls, calls)
    assert.equal(echo.latency.counts.reduce((a, b) => a + b, 0), calls)
    assert.ok(echo.latency.sumMs > 0)
    const sleep = s.methods.sleep!
    // A timer may fire a little early against performance.now(); a call timed only to its first return would show ~0.
    assert.ok(sleep.latency.sumMs >= 10, `the async call was timed until it ended: ${sleep.latency.sumMs} ms`)
    await p.stop() // the memory test below counts on it being inactive
  })

  it('counts restarts, crashes and the quarantine until reset', async () => {
    const p = host.plugin('echo-process-stdio')
    await p.call('echo', [1])
    await p.stop()
    await p.call('echo', [2])
    assert.equal(stats('echo-process-stdio').restarts, 1)
    await assert.rejects(p.call('crash'))
    await until(() => host.stats().find((s) => s.id === 'echo-process-stdio')!.crashes === 1)
    await p.call('echo', [3]) // one crash is tolerated (maxCrashes 1)
    await assert.rejects(p.call('crash'))
    await until(() => stats('echo-process-stdio').quarantine !== undefined)
    assert.equal(stats('echo-process-stdio').quarantine?.code, 'PLUGIN_QUARANTINED')
    p.reset()
    assert.equal(stats('echo-process-stdio').quarantine, undefined)
    assert.equal(await p.call('echo', [4]), 4)
    assert.equal(stats('echo-process-stdio').crashes, 2)
  })

  it('reports memory by placement: RSS of a process, heap of a worker, linear memory of wasm', async () => {
    await host.plugin('echo-process-unix').call('echo', [1])
    await host.plugin('echo-worker').call('echo', [1])
    await host.plugin('wasm-c-worker').call('echo', [1])
    const memory = new Map((await host.memory()).map((m) => [m.id, m]))
    assert.ok((memory.get('echo-process-unix')?.rssBytes ?? 0) > 1_000_000, JSON.stringify(memory.get('echo-process-unix')))
    assert.ok((memory.get('echo-worker')?.heapBytes ?? 0) > 100_000, JSON.stringify(memory.get('echo-worker')))
    const linear = memory.get('wasm-c-worker')?.linearMemoryBytes ?? 0
    assert.ok(linear > 0 && linear % 65536 === 0, `linear memory ${linear} is whole 64 KiB pages`)
    assert.equal(memory.has('echo-inline'), false, 'an inactive plugin occupies nothing')
  })

  it('keeps recent log lines per plugin and tells listeners of new ones', async () => {
    const seen: string[] = []
    const stop = host.onLog((r) => void (r.plugin === 'echo-process-tcp' && seen.push(r.message)))
    await host.plugin('echo-process-tcp').call('echo', [1])
    await until(() => host.logs('echo-process-tcp').some((r) => r.message === 'activated echo-process-tcp'))
    stop()
    assert.ok(seen.includes('activated echo-process-tcp'))
    assert.ok(host.logs('echo-process-tcp').every((r) => typeof r.time === 'number' && r.plugin === 'echo-process-tcp'))
  })
})
