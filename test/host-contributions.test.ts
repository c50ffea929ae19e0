import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { rejectsWithCode } from './support/assert-code.js'
import { createHost } from '../src/host/host.js'
import { appHost, hostFixtures } from './support/host-fixtures.js'

describe('host: hooks', () => {
  it('waterfall: pre, then normal, then post handlers each transform the value (plugins and the application)', async () => {
    const { host } = await appHost()
    after(() => host.close())
    host.hooks.define('transform', { kind: 'waterfall' })
    host.hooks.tap('transform', (s) => `${String(s)}!`, { order: 'post' })
    // core (worker) brackets at `pre`, ui (inline) upper-cases at `normal`, the application adds "!" at `post`.
    assert.equal(await host.hooks.call('transform', 'hi'), '[HI]!')
  })

  it('series: every handler runs once, pre before normal before post; the application\'s first within a group', async () => {
    const { host, trace } = await appHost()
    after(() => host.close())
    host.hooks.define('trail', { kind: 'series' })
    host.hooks.tap('trail', () => void trace.push('app pre'), { order: 'pre' })
    host.hooks.tap('trail', () => void trace.push('app post'), { order: 'post' })
    trace.length = 0
    assert.equal(await host.hooks.call('trail', []), undefined)
    // ui's handler is `pre` and core's is `post`, although core (ui's dependency) activates first.
    assert.deepEqual(trace.filter((l) => !l.startsWith('activate')), ['app pre', 'trail ui', 'app post', 'trail core'])
  })

  it('waterfall ordering across plugins: ui (pre) runs before core (post) although core is ui\'s dependency', async () => {
    const { host } = await appHost()
    after(() => host.close())
    host.hooks.define('trail', { kind: 'waterfall' })
    host.hooks.tap('trail', (list) => [...(list as string[]), 'app'])
    assert.deepEqual(await host.hooks.call('trail', []), ['ui', 'app', 'core'])
  })

  it('bail: the first handler returning something other than null wins; later ones do not run', async () => {
    const { host } = await appHost()
    after(() => host.close())
    host.hooks.define('resolve', { kind: 'bail' })
    let lateRan = false
    host.hooks.tap('resolve', () => (lateRan = true), { order: 'post' })
    // core (first by dependency order) returns null, ui answers.
    assert.equal(await host.hooks.call('resolve', 'x'), 'ui:x')
    assert.equal(lateRan, false)
  })

  it('parallel: all handlers at once, results in handler order', async () => {
    const { host } = await appHost()
    after(() => host.close())
    host.hooks.define('collect', { kind: 'parallel' })
    host.hooks.tap('collect', () => 'app', { order: 'pre' })
    assert.deepEqual(await host.hooks.call('collect'), ['app', 'core', 'ui'])
  })

  it('a handler past the hook timeout fails the hook with RPC_TIMEOUT naming the plugin and hook', async () => {
    const { host } = await appHost()
    after(() => host.close())
    host.hooks.define('slow', { kind: 'series', timeoutMs: 100 })
    const error = await rejectsWithCode(host.hooks.call('slow'), 'RPC_TIMEOUT')
    assert.equal(error.plugin, 'core')
    assert.equal((error.data as { hook: string }).hook, 'slow')
    await rejectsWithCode(host.hooks.call('undeclared'), 'HOOK_NOT_FOUND')
  })
})

describe('host: events, configuration, plugin-to-plugin calls', () => {
  it('a plugin contributing a listener is activated by an event and receives payload and topic', async () => {
    const { host } = await appHost()
    after(() => host.close())
    assert.equal(await host.events.publish('file.saved', { path: 'a.txt' }), 1)
    assert.deepEqual(host.storage('ui').get('last-saved'), { payload: { path: 'a.txt' }, topic: 'file.saved' })
  })

  it('plugins publish to topics they are granted; the application hears them', async () => {
    const { host } = await appHost()
    after(() => host.close())
    const heard: unknown[] = []
    host.events.subscribe('ui.ready', (payload, meta) => void heard.push([payload, meta]))
    assert.equal(await host.plugin('ui').call('publish', ['ui.ready']), 1)
    assert.deepEqual(heard, [[{ from: 'ui' }, { topic: 'ui.ready', from: 'ui' }]])
    await rejectsWithCode(host.plugin('ui').call('publish', ['secret']), 'PERMISSION_DENIED')
  })

  it('settings: defaults applied, validated against the contributed schema, changes reach the running plugin', async () => {
    const { host, trace } = await appHost({ config: { ui: { times: 2 } } })
    after(() => host.close())
    assert.deepEqual(host.settings('ui'), { greeting: 'hello', times: 2 })
    assert.equal(await host.commands.execute('ui.greet', 'bo'), 'hello bo hello bo')
    await rejectsWithCode(host.configure('ui', { times: 0 }), 'CONFIG_INVALID')
    await rejectsWithCode(host.configure('ui', { colour: 'red' }), 'CONFIG_INVALID')
    await host.configure('ui', { greeting: 'hey', times: 1 })
    assert.equal(trace.at(-1), 'config ui hey')
    assert.equal(await host.commands.execute('ui.greet', 'bo'), 'hey bo')
  })

  it('invalid settings fail activation with CONFIG_INVALID naming the plugin', async () => {
    const { host } = await appHost({ config: { ui: { times: 'many' } } })
    after(() => host.close())
    const error = await rejectsWithCode(host.commands.execute('ui.greet', 'x'), 'CONFIG_INVALID')
    assert.equal(error.plugin, 'ui')
  })

  it('a plugin calls the API its dependency provides, through the host, across placements', async () => {
    const { host } = await appHost()
    after(() => host.close())
    assert.equal(await host.plugin('ui').call('useCore', [21]), 42)
    assert.equal(await host.provider('core-api').call('double', [2]), 4)
  })
})

describe('host: permissions at the boundary', () => {
  it('refuses a host API call outside the plugin\'s grants with PERMISSION_DENIED naming plugin, method and scope, and logs it', async () => {
    const { host, log } = await appHost()
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('starter').call('tryStorage'), 'PERMISSION_DENIED')
    assert.equal(error.plugin, 'starter')
    assert.equal(error.method, 'host/storage.get')
    assert.deepEqual(error.data, { scope: 'storage' })
    assert.ok(log.some((e) => e.plugin === 'starter' && e.level === 'warn' && e.message.includes('PERMISSION_DENIED')))
  })

  it('allows calls to declared dependencies only, unless the application grants plugins.call:<id>', async () => {
    const { host } = await appHost()
    after(() => host.close())
    await rejectsWithCode(host.plugin('ui').call('callStranger'), 'PERMISSION_DENIED')
    const widened = await appHost({ permissions: (id, asked) => (id === 'ui' ? [...asked, 'plugins.call:starter'] : asked) })
    after(() => widened.host.close())
    assert.equal(await widened.host.plugin('ui').call('callStranger'), 'hi')
  })

  it('the application can narrow what a manifest asks for', async () => {
    const { host } = await appHost({ permissions: (id, asked) => (id === 'ui' ? asked.filter((s) => s !== 'storage') : asked) })
    after(() => host.close())
    await rejectsWithCode(host.plugin('ui').call('storage', ['get', ['k']]), 'PERMISSION_DENIED')
  })

  it('application API functions need api:<name> unless public', async () => {
    const { host } = await appHost({ api: { trace: () => {}, secret: () => 42 } })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('ui').call('callHost', ['host/secret', []]), 'PERMISSION_DENIED')
    assert.deepEqual(error.data, { scope: 'api:secret' })
    const granted = await appHost({ api: { trace: () => {}, secret: () => 42 }, permissions: (_id, asked) => [...asked, 'api:secret'] })
    after(() => granted.host.close())
    assert.equal(await granted.host.plugin('ui').call('callHost', ['host/secret', []]), 42)
  })
})

describe('host: permissions hold in every placement', () => {
  for (const id of ['in-worker', 'in-process']) {
    it(`${id}: refused without the grant, allowed with it`, async () => {
      const host = await createHost({ plugins: [`${hostFixtures}/placements`], logger: () => {} })
      after(() => host.close())
      const denied = await rejectsWithCode(host.plugin(id).call('callHost', ['host/storage.set', ['k', 1]]), 'PERMISSION_DENIED')
      assert.equal(denied.plugin, id)
      assert.deepEqual(denied.data, { scope: 'storage' })
      await rejectsWithCode(host.plugin(id).call('callHost', ['host/events.publish', ['other', {}]]), 'PERMISSION_DENIED')
      assert.equal(await host.plugin(id).call('callHost', ['host/events.publish', ['allowed', {}]]), 0)
    })
  }
})
