import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import type { LogEntry } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'
import type { ConformanceApi } from './support/conformance-api.js'
import { examplesDir, fixturesDir } from './support/paths.js'

function collectingLogger() {
  const entries: LogEntry[] = []
  return { entries, logger: (e: LogEntry) => void entries.push(e) }
}

describe('host: lazy activation', () => {
  it('discovers plugins without starting any, and activates one on its first call', async () => {
    const host = await createHost({ plugins: [examplesDir], logger: () => {} })
    after(() => host.close())
    assert.ok(host.list().every((p) => p.status === 'inactive'))
    assert.equal(await host.plugin('echo-worker').call('echo', ['x']), 'x')
    const info = host.plugin('echo-worker').info()
    assert.equal(info.status, 'active')
    assert.equal(info.activationReason, 'onMethod:echo')
    assert.ok((info.loadMs ?? -1) >= 0 && (info.activateMs ?? -1) >= 0)
    assert.ok(info.methods?.includes('callHost'))
    assert.equal(host.plugin('echo-inline').info().status, 'inactive')
  })

  it('types calls from the plugin interface through proxy<Api>()', async () => {
    const host = await createHost({ plugins: [examplesDir], logger: () => {} })
    after(() => host.close())
    const api = host.plugin('echo-inline').proxy<ConformanceApi>()
    const sum: number = await api.add(1, 2)
    assert.equal(sum, 3)
  })

  it('calls inline plugins directly with the same contract: unknown methods, deadlines, cancellation', async () => {
    const host = await createHost({ plugins: [examplesDir], logger: () => {} })
    after(() => host.close())
    const inline = host.plugin('echo-inline')
    const missing = await rejectsWithCode(inline.call('nope'), 'METHOD_NOT_FOUND')
    assert.equal(missing.plugin, 'echo-inline')
    assert.equal(missing.method, 'nope')
    await rejectsWithCode(inline.call('sleep', [2000], { timeout: 20 }), 'RPC_TIMEOUT')
    await rejectsWithCode(inline.call('sleep', [10], { signal: AbortSignal.abort() }), 'RPC_CANCELLED')
    assert.ok((await inline.call<number>('cancelCount')) >= 1, 'the timed-out sleep saw its signal abort')
  })

  it('reports an unknown plugin id with PLUGIN_NOT_FOUND', async () => {
    const host = await createHost({ plugins: [examplesDir], logger: () => {} })
    assert.throws(() => host.plugin('nope'), { code: 'PLUGIN_NOT_FOUND' })
  })
})

describe('host: containment', () => {
  it('a worker plugin that spins forever times out with RPC_TIMEOUT, is terminated as hung, and others keep serving', async () => {
    const { entries, logger } = collectingLogger()
    const host = await createHost({ plugins: [`${fixturesDir}/hang`, examplesDir], logger, pingTimeoutMs: 200 })
    after(() => host.close())
    // The manifest's 300 ms deadline ended the call (its message names it), not a clock in the test.
    const timedOut = await rejectsWithCode(host.plugin('hang').call('spin'), 'RPC_TIMEOUT')
    assert.match(timedOut.message, /within 300 ms/)
    // The host thread was never blocked: another worker plugin and an inline one answer.
    assert.equal(await host.plugin('echo-worker').call('echo', ['alive']), 'alive')
    assert.equal(await host.plugin('echo-inline').call('add', [2, 2]), 4)
    await until(() => host.plugin('hang').info().status === 'inactive')
    assert.equal(host.plugin('hang').info().lastError?.code, 'PLUGIN_HUNG')
    assert.ok(entries.some((e) => e.plugin === 'hang' && e.message.includes('PLUGIN_HUNG')))
    // A terminated plugin starts again on its next call.
    assert.equal(await host.plugin('hang').call('ok'), 'ok')
  })

  it('a crashing worker plugin fails only its own calls', async () => {
    const host = await createHost({ plugins: [examplesDir], logger: () => {} })
    after(() => host.close())
    const worker = host.plugin('echo-worker').proxy<ConformanceApi>()
    const inline = host.plugin('echo-inline').proxy<ConformanceApi>()
    // A call of another plugin in flight across the crash: it runs until the test stops it.
    const stop = new AbortController()
    let settled = false
    const slow = host.plugin('echo-inline').call('sleep', [600_000], { signal: stop.signal }).finally(() => (settled = true))
    const cancelled = rejectsWithCode(slow, 'RPC_CANCELLED')
    await rejectsWithCode(worker.crash(), 'PLUGIN_CRASHED')
    assert.equal(await inline.echo('fine'), 'fine')
    assert.equal(settled, false, "the worker's crash did not end the inline plugin's call")
    stop.abort()
    await cancelled
  })

  it('a module without a plugin export fails to start with PLUGIN_UNAVAILABLE, naming the plugin', async () => {
    const host = await createHost({ plugins: [`${fixturesDir}/bad-export`], logger: () => {} })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('bad-export').call('x'), 'PLUGIN_UNAVAILABLE')
    assert.equal(error.plugin, 'bad-export')
    assert.match(error.message, /definePlugin/)
    assert.equal(host.plugin('bad-export').info().status, 'failed')
  })

  it('a module that throws while loading inline fails with PLUGIN_UNAVAILABLE and the host survives', async () => {
    const host = await createHost({ plugins: [`${fixturesDir}/load-throws`], logger: () => {} })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('load-throws').call('x'), 'PLUGIN_UNAVAILABLE')
    assert.match(error.message, /fails while loading/)
  })

  it('a failing activate gives ACTIVATION_FAILED with the plugin\'s own code, and its log line is tagged', async () => {
    const { entries, logger } = collectingLogger()
    const host = await createHost({ plugins: [`${fixturesDir}/activate-fails`], logger })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('activate-fails').call('ok'), 'ACTIVATION_FAILED')
    assert.deepEqual(error.data, { code: 'E_NO_CONFIG' })
    assert.ok(entries.some((e) => e.plugin === 'activate-fails' && e.level === 'warn' && e.message === 'about to fail activation'))
  })
})

describe('host: discovery', () => {
  it('reports invalid manifests and still serves the valid plugins', async () => {
    const host = await createHost({ plugins: [fixturesDir, examplesDir], logger: () => {} })
    after(() => host.close())
    const invalid = host.invalid()
    assert.equal(invalid.length, 1)
    assert.equal(invalid[0]?.error.code, 'MANIFEST_INVALID')
    assert.equal(await host.plugin('echo-inline').call('echo', [1]), 1)
  })

  it('exposes application host API functions to plugins as host/<name>, with the caller id', async () => {
    const host = await createHost({
      plugins: [examplesDir],
      logger: () => {},
      api: { greet: (name: string, ctx: { plugin: string }) => `hello ${name} from ${ctx.plugin}` },
      publicApi: ['greet'],
    })
    after(() => host.close())
    for (const id of ['echo-inline', 'echo-worker']) {
      assert.equal(await host.plugin(id).call('callHost', ['host/greet', ['ada']]), `hello ada from ${id}`)
    }
  })
})
