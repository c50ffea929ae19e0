/**
 * A call's context, inline (src/sdk/direct.ts) and served over a channel (src/sdk/serve.ts, here
 * in a worker): a method that can read it gets it, however it reaches it — a declared parameter, a
 * default, a rest parameter, `arguments` — and a method that cannot read it (its arguments fill its
 * simple parameters) is called without one, with the same contract: deadlines, cancellation, typed
 * errors naming the plugin and method, statistics.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'

const root = await mkdtemp(join(tmpdir(), 'polyplug-direct-context-'))
after(() => rm(root, { recursive: true, force: true }))

// Each `seen*` method answers the method name its context carries, or 'none' without one.
const code = `const name = (ctx) => ctx?.method ?? 'none'
export default {
  methods: {
    seenDeclared: (value, ctx) => name(ctx),
    seenDefault: (value, ctx = undefined) => name(ctx),
    seenRest: (...all) => name(all[1]),
    seenArguments: function (value) { return name(arguments[1]) },
    seenShorthand(value) { return name(arguments[1]) },
    seenNoArgs: (ctx) => name(ctx),
    seenProgress: (ctx) => { ctx.progress(1); return 'sent' },
    echo: (value) => value,
    pair: (a, b) => [a, b],
    fail: (message) => { throw new Error(message) },
    sleep: (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms)),
  },
}
`

async function started(placement: string) {
  const dir = join(root, placement)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id: 'context', version: '1.0.0', kind: 'js', entry: 'index.js', placement }))
  await writeFile(join(dir, 'index.js'), code)
  const host = await createHost({ plugins: [dir], logger: silentLogger })
  after(() => host.close())
  const api = host.plugin('context')
  await api.activate()
  return { host, api }
}

for (const placement of ['inline', 'worker']) {
  describe(`${placement} calls: the context reaches every method that can read it`, () => {
    it('through a declared parameter, a default, a rest parameter or arguments, on the first call and the thousandth', async () => {
      const { api } = await started(placement)
      for (let i = 0; i < 1000; i++) {
        for (const method of ['seenDeclared', 'seenDefault', 'seenRest', 'seenArguments', 'seenShorthand']) assert.equal(await api.call(method, [i]), method)
        assert.equal(await api.call('seenNoArgs'), 'seenNoArgs')
      }
    })

    it('with its progress, when the method is called with no arguments and declares the context', async () => {
      const { api } = await started(placement)
      const progress: unknown[] = []
      assert.equal(await api.call('seenProgress', [], { onProgress: (value) => progress.push(value) }), 'sent')
      assert.deepEqual(progress, [1])
    })
  })

  describe(`${placement} calls: a method that cannot read its context keeps the call contract`, () => {
    it('answers with its arguments, an argument past its parameters changing nothing', async () => {
      const { api } = await started(placement)
      assert.equal(await api.call('echo', [7]), 7)
      assert.deepEqual(await api.call('pair', [1, 2, 3]), [1, 2])
      assert.deepEqual(await api.call('pair', [1, 2]), [1, 2])
    })

    it('fails typed, naming the plugin and method, and is counted as an error', async () => {
      const { host, api } = await started(placement)
      const error = await rejectsWithCode(api.call('fail', ['broken']), 'INTERNAL_ERROR')
      assert.equal(error.plugin, 'context')
      assert.equal(error.method, 'fail')
      assert.match(error.message, /broken/)
      assert.equal(host.stats().find((s) => s.id === 'context')?.methods.fail?.errors, 1)
    })

    it('keeps its deadline and its cancellation when it answers later', async () => {
      const { api } = await started(placement)
      assert.equal(await api.call('sleep', [1]), 1)
      const late = await rejectsWithCode(api.call('sleep', [60_000], { timeout: 20 }), 'RPC_TIMEOUT')
      assert.equal(late.plugin, 'context')
      const controller = new AbortController()
      const cancelled = rejectsWithCode(api.call('sleep', [60_000], { signal: controller.signal }), 'RPC_CANCELLED')
      controller.abort()
      assert.equal((await cancelled).method, 'sleep')
    })
  })
}
