/**
 * The plugin conformance suite: every example plugin — each kind, placement and transport — runs
 * the same checks that `polyplug check` runs on any plugin (src/check/checks.ts), one test each.
 * Examples implement the whole conformance interface, so a missing method fails here (where
 * `polyplug check` would skip); a check that cannot apply to a placement is reported as a skip with
 * its reason.
 */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { after, before, it, type TestContext } from 'node:test'
import { conformanceChecks, protocolChecks, stopCheck, strayOutputCheck, type CheckContext } from '../../src/check/checks.js'
import { missingMethods, runCheck } from '../../src/check/run.js'
import { createHost, type Host } from '../../src/host/host.js'
import type { LogEntry } from '../../src/host/log.js'
import type { LoadedManifest } from '../../src/manifest/load.js'
import { describeRequiring } from './describe-requiring.js'
import { builtWith, type Requirement } from './requires.js'
import { rejectsWithCode } from './assert-code.js'
import type { ConformanceApi } from './conformance-api.js'
import { until } from './wait.js'

/** Runs the suite against one plugin folder; `label` tells apart runs of the same plugin (e.g. another broker). */
export function describePluginConformance(loaded: LoadedManifest, label = '', needs: Requirement[] = []): void {
  const { id, kind, placement, transport } = loaded.manifest
  const needed = [...needs, ...builtWith(resolve(loaded.dir, loaded.manifest.entry))]
  describeRequiring(`plugin conformance: ${id} (${kind}, ${placement}, ${transport})${label ? `, ${label}` : ''}`, needed, () => {
    let host: Host
    let ctx: CheckContext
    const log: LogEntry[] = []
    before(async () => {
      host = await createHost({ plugins: [loaded.dir], logger: (e) => void log.push(e), callTimeoutMs: 10_000 })
      ctx = { host, plugin: host.plugin(id), manifest: loaded.manifest, log }
    })
    after(() => host.close())

    for (const check of [...protocolChecks, ...conformanceChecks, strayOutputCheck, stopCheck]) {
      const notFor = check.notFor?.(loaded.manifest)
      it(check.name, notFor ? { skip: notFor } : {}, async () => {
        const missing = missingMethods(check, ctx.plugin.info().methods ?? (await ctx.plugin.activate(), ctx.plugin.info().methods))
        assert.deepEqual(missing, [], `an example must export the whole conformance interface (docs/conformance.md)`)
        const result = await runCheck(check, ctx)
        assert.equal(result.status, 'pass', [result.reason, result.sent && `sent: ${String(result.sent)}`, result.got && `got: ${JSON.stringify(result.got)}`].filter(Boolean).join('\n'))
      })
    }

    // Streams (docs/protocol.md §7.1): checked where `$/hello` lists the capability, skipped with the reason elsewhere.
    describeStreamConformance(() => host, id, placement !== 'inline' && !(kind === 'native' && placement === 'worker'))
  })
}

/**
 * Stream checks (docs/protocol.md §7.1), for plugins whose `$/hello` answer lists the `streams`
 * capability; the others report a skip saying so.
 */
function describeStreamConformance(host: () => Host, id: string, crashIsolated: boolean): void {
  const api = () => host().plugin(id).proxy<ConformanceApi>()
  const streaming = async (t: TestContext): Promise<boolean> => {
    await host().plugin(id).activate()
    if (host().plugin(id).info().capabilities?.includes('streams')) return true
    t.skip(`${id} does not list the "streams" capability in its $/hello answer (docs/protocol.md §7.1)`)
    return false
  }
  async function* numbers(n: number) {
    for (let i = 1; i <= n; i++) yield i
  }

  it('streams: count(n) yields 0..n-1 to for await', async (t) => {
    if (!(await streaming(t))) return
    const seen: number[] = []
    for await (const n of api().count(5)) seen.push(n)
    assert.deepEqual(seen, [0, 1, 2, 3, 4])
    for await (const n of api().count(0)) assert.fail(`count(0) yielded ${n}`)
  })

  it('streams: sum(stream) consumes a stream argument of numbers or byte chunks', async (t) => {
    if (!(await streaming(t))) return
    assert.equal(await api().sum(numbers(100)), 5050)
    async function* chunks() {
      for (let i = 0; i < 3; i++) yield new Uint8Array(70_000).fill(i)
    }
    assert.equal(await api().sum(chunks()), 210_000)
  })

  it('streams: breaking out of the loop cancels the producer', async (t) => {
    if (!(await streaming(t))) return
    const before = await api().cancelCount()
    for await (const n of api().count(1_000_000)) if (n === 2) break
    await until(async () => (await api().cancelCount()) === before + 1)
  })

  it('streams: a producer error ends the loop with the typed error', async (t) => {
    if (!(await streaming(t))) return
    const seen: number[] = []
    const loop = (async () => {
      for await (const n of api().count(10, 3)) seen.push(n)
    })()
    const error = await rejectsWithCode(loop, 'E_STREAM')
    assert.deepEqual(seen, [0, 1, 2])
    assert.equal(error.plugin, id)
    assert.equal(error.method, 'count')
  })

  it('streams: a slow consumer holds the producer to its window while other calls go on', async (t) => {
    if (!(await streaming(t))) return
    const window = 4
    const before = await api().produced()
    const stream = await host().plugin(id).call<AsyncIterableIterator<number>>('count', [1_000_000], { window })
    assert.deepEqual(await stream.next(), { value: 0, done: false })
    // Other calls on the same channel are answered while the stream waits for its consumer.
    for (let i = 0; i < 20; i++) assert.equal(await api().add(i, 1), i + 1)
    const ran = (await api().produced()) - before
    assert.ok(ran >= 1 && ran <= window + 2, `the producer ran ${ran} items ahead with a window of ${window}`)
    await stream.return!()
  })

  if (crashIsolated) {
    it('streams: the plugin dying ends an open stream with PLUGIN_CRASHED', async (t) => {
      if (!(await streaming(t))) return
      const stream = await host().plugin(id).call<AsyncIterableIterator<number>>('count', [1e9], { window: 2 })
      await stream.next()
      await rejectsWithCode(api().crash(), 'PLUGIN_CRASHED')
      const drained = (async () => {
        for (;;) if ((await stream.next()).done) return
      })()
      await rejectsWithCode(drained, 'PLUGIN_CRASHED')
      assert.equal(await api().echo('back'), 'back')
    })
  }
}
