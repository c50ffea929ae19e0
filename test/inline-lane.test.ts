/**
 * A running inline plugin is called through its session's direct lane (src/host/direct-lane.ts):
 * no activation step, no checks that are known to pass, each method found once. The lane belongs
 * to one session: every call after a stop, during a stop, after a reload or after a failed start
 * reaches the session that is running then (or fails naming the plugin), a plugin whose calls need
 * checks (params, streams) keeps them on every call, each method's calls are counted as its own,
 * and a tracer registered while the plugin runs sees its next call.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'

const root = await mkdtemp(join(tmpdir(), 'polyplug-inline-lane-'))
after(() => rm(root, { recursive: true, force: true }))

/** A plugin folder under `root` with `manifest` (id, kind js, entry index.js added) and `code` as its entry. */
async function plugin(id: string, code: string, manifest: Record<string, unknown> = {}): Promise<string> {
  const dir = join(root, id)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'js', entry: 'index.js', placement: 'inline', ...manifest }))
  await writeFile(join(dir, 'index.js'), code)
  return dir
}

// Each start imports the entry afresh; \`alive\` is false once that copy was deactivated, so a call
// that reached a stopped session's methods would see false. Sessions are counted across copies
// (globalThis.laneSessions, per plugin id). A deactivate waits for globalThis.laneHold when it is set.
const session = `let alive = false
export default {
  activate(ctx) { alive = true; globalThis.laneSessions ??= {}; globalThis.laneSessions[ctx.id] = (globalThis.laneSessions[ctx.id] ?? 0) + 1 },
  async deactivate() { alive = false; await globalThis.laneHold },
  methods: { alive: () => alive, sessions: (ctx) => globalThis.laneSessions[ctx.plugin.id], echo: (value) => value },
}
`

/** A host over one plugin folder (closed after the test), and the plugin's handle. */
async function started(dir: string, id: string) {
  const host = await createHost({ plugins: [dir], logger: silentLogger })
  after(() => host.close())
  return { host, api: host.plugin(id) }
}

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i
}

describe('inline plugins: the direct lane follows the running session', () => {
  it('after stop(), a call starts a new session instead of reaching the stopped one', async () => {
    const dir = await plugin('lane-stop', session)
    const { host, api } = await started(dir, 'lane-stop')
    assert.equal(await api.call('alive'), true)
    await api.stop()
    assert.equal(api.info().status, 'inactive')
    assert.equal(await api.call('alive'), true)
    assert.equal(await api.call('sessions'), 2)
    assert.equal(api.info().activationReason, 'onMethod:alive')
    assert.equal(host.stats().find((s) => s.id === 'lane-stop')?.activations, 2)
  })

  it('a call made while the plugin stops waits for the stop and reaches the next session', async () => {
    const dir = await plugin('lane-stopping', session)
    const { api } = await started(dir, 'lane-stopping')
    assert.equal(await api.call('echo', [1]), 1)
    let release!: () => void
    ;(globalThis as { laneHold?: Promise<void> }).laneHold = new Promise<void>((r) => (release = r))
    after(() => delete (globalThis as { laneHold?: Promise<void> }).laneHold)
    const stopping = api.stop()
    await until(() => api.info().status === 'stopping')
    const during = api.call('alive')
    release()
    await stopping
    assert.equal(await during, true)
    assert.equal(await api.call('sessions'), 2)
  })

  it('after reload(), calls reach the reloaded session, and its own statistics count them', async () => {
    const dir = await plugin('lane-reload', session)
    const { host, api } = await started(dir, 'lane-reload')
    for (let i = 0; i < 100; i++) assert.equal(await api.call('echo', [i]), i)
    await host.reload('lane-reload')
    assert.equal(await api.call('alive'), true)
    assert.equal(await api.call('sessions'), 2)
    assert.equal(api.info().activationReason, 'reload')
    const stats = host.stats().find((s) => s.id === 'lane-reload')
    assert.equal(stats?.methods.echo?.calls, 100)
    assert.equal(stats?.calls, 102)
  })

  it('a running plugin with validateParams checks the arguments of every call, not only the first', async () => {
    const dir = await plugin('lane-params', 'export default { methods: { twice: (n) => n * 2 } }\n', {
      validateParams: true,
      contributes: { methods: [{ name: 'twice', params: [{ title: 'n', type: 'number' }] }] },
    })
    const { api } = await started(dir, 'lane-params')
    assert.equal(await api.call('twice', [2]), 4)
    for (let i = 0; i < 3; i++) await rejectsWithCode(api.call('twice', ['two']), 'INVALID_PARAMS')
    assert.equal(await api.call('twice', [3]), 6)
  })

  it('a running plugin that does not speak streams refuses a stream argument on every call', async () => {
    const dir = await plugin('lane-nostreams', 'export default { capabilities: [], methods: { echo: (v) => v } }\n')
    const { api } = await started(dir, 'lane-nostreams')
    assert.equal(await api.call('echo', [1]), 1)
    for (let i = 0; i < 3; i++) {
      const error = await rejectsWithCode(api.call('echo', [numbers(2)]), 'STREAMS_UNSUPPORTED')
      assert.equal(error.plugin, 'lane-nostreams')
    }
  })

  it('a running plugin still answers an unknown method with METHOD_NOT_FOUND naming it, counted as an error', async () => {
    const dir = await plugin('lane-missing', session)
    const { host, api } = await started(dir, 'lane-missing')
    assert.equal(await api.call('echo', [1]), 1)
    const error = await rejectsWithCode(api.call('ech', [1]), 'METHOD_NOT_FOUND')
    assert.equal(error.plugin, 'lane-missing')
    assert.match(error.message, /echo/)
    assert.equal(host.stats().find((s) => s.id === 'lane-missing')?.errorsByCode.METHOD_NOT_FOUND, 1)
  })

  it('after a failed start, a call fails naming the plugin instead of reaching the stopped session', async () => {
    const failing = `let alive = false
export default {
  activate() { if (globalThis.laneFailStart) throw new Error('cannot start now'); alive = true },
  deactivate() { alive = false },
  methods: { alive: () => alive },
}
`
    const dir = await plugin('lane-failed', failing)
    const { api } = await started(dir, 'lane-failed')
    assert.equal(await api.call('alive'), true)
    await api.stop()
    const flags = globalThis as { laneFailStart?: boolean }
    flags.laneFailStart = true
    after(() => delete flags.laneFailStart)
    const error = await rejectsWithCode(api.call('alive'), 'ACTIVATION_FAILED')
    assert.equal(error.plugin, 'lane-failed')
    assert.equal(api.info().status, 'failed')
    delete flags.laneFailStart
    assert.equal(await api.call('alive'), true)
  })

  it("counts each method's calls as its own when calls to several methods interleave", async () => {
    const dir = await plugin('lane-methods', 'export default { methods: { a: () => 1, b: () => 2, c: (x) => x } }\n')
    const { host, api } = await started(dir, 'lane-methods')
    const order = ['a', 'b', 'a', 'c', 'c', 'b', 'a']
    for (let round = 0; round < 100; round++) for (const m of order) assert.equal(await api.call(m, [3]), m === 'a' ? 1 : m === 'b' ? 2 : 3)
    const stats = host.stats().find((s) => s.id === 'lane-methods')
    assert.equal(stats?.methods.a?.calls, 300)
    assert.equal(stats?.methods.b?.calls, 200)
    assert.equal(stats?.methods.c?.calls, 200)
    assert.equal(stats?.calls, 700)
  })
})

describe('inline plugins: tracing on the direct lane', () => {
  it('a tracer registered while the plugin runs sees its next call as a span', async () => {
    const dir = await plugin('lane-traced', session)
    const { api } = await started(dir, 'lane-traced')
    for (let i = 0; i < 100; i++) assert.equal(await api.call('echo', [i]), i)
    const exporter = new InMemorySpanExporter()
    assert.equal(trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })), true)
    after(() => trace.disable())
    assert.equal(await api.call('echo', ['seen']), 'seen')
    assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name), ['polyplug.call lane-traced/echo'])
    trace.disable()
    assert.equal(await api.call('echo', ['unseen']), 'unseen')
    assert.equal(exporter.getFinishedSpans().length, 1, 'no span once the tracer is gone')
  })
})
