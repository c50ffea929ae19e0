import assert from 'node:assert/strict'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'
import { appHost, hostFixtures } from './support/host-fixtures.js'

describe('host: lazy activation', () => {
  it('starts only onStartup plugins at creation, and records the reason and times', async () => {
    const { host, trace } = await appHost()
    after(() => host.close())
    assert.deepEqual(trace, ['activate starter'])
    const status = Object.fromEntries(host.list().map((p) => [p.id, p.status]))
    assert.deepEqual(status, { core: 'inactive', ui: 'inactive', starter: 'active', listener: 'inactive', lazy: 'inactive' })
    const starter = host.stats().find((s) => s.id === 'starter')
    assert.equal(starter?.activationReason, 'onStartup')
    assert.ok((starter?.loadMs ?? -1) >= 0 && (starter?.activateMs ?? -1) >= 0)
  })

  it('onCommand: running a contributed command activates its plugin, after its dependency (onDependent)', async () => {
    const { host, trace } = await appHost()
    after(() => host.close())
    assert.equal(await host.commands.execute('ui.greet', 'ada'), 'hello ada')
    assert.deepEqual(trace, ['activate starter', 'activate core', 'activate ui'])
    assert.equal(host.plugin('ui').info().activationReason, 'onCommand:ui.greet')
    assert.equal(host.plugin('core').info().activationReason, 'onDependent')
  })

  it('onMethod: a call activates the plugin', async () => {
    const { host } = await appHost()
    after(() => host.close())
    assert.equal(await host.plugin('core').call('double', [21]), 42)
    assert.equal(host.plugin('core').info().activationReason, 'onMethod:double')
  })

  it('onHook: running a hook activates the plugins that contribute handlers to it', async () => {
    const { host } = await appHost()
    after(() => host.close())
    host.hooks.define('collect', { kind: 'parallel' })
    await host.hooks.call('collect')
    assert.equal(host.plugin('core').info().activationReason, 'onHook:collect')
    assert.equal(host.plugin('ui').info().status, 'active')
  })

  it('onEvent: the first event on a topic activates a plugin that declared it, which then receives it', async () => {
    const { host } = await appHost()
    after(() => host.close())
    assert.equal(host.plugin('listener').info().status, 'inactive')
    assert.equal(await host.events.publish('build.done', { ok: true }), 1)
    assert.equal(host.plugin('listener').info().activationReason, 'onEvent:build.done')
    assert.deepEqual(await host.plugin('listener').call('seen'), [{ ok: true }])
  })

  it('lists contributed commands without loading any plugin code', async () => {
    const { host } = await appHost()
    after(() => host.close())
    const ids = host.commands.list().map((c) => c.id).sort()
    assert.deepEqual(ids, ['lazy.never', 'ui.greet'])
    assert.equal(host.plugin('lazy').info().status, 'inactive')
    await rejectsWithCode(host.commands.execute('lazy.never'), 'PLUGIN_UNAVAILABLE')
    await rejectsWithCode(host.commands.execute('no.such'), 'COMMAND_NOT_FOUND')
  })
})

describe('host: lifecycle', () => {
  it('close() deactivates dependants before their dependencies', async () => {
    const { host, trace } = await appHost()
    await host.commands.execute('ui.greet', 'x')
    trace.length = 0
    await host.close()
    assert.deepEqual(trace, ['deactivate ui', 'deactivate core'])
    assert.ok(host.list().every((p) => p.status === 'inactive'))
  })

  it('a dependency that fails to activate fails its dependant with DEPENDENCY_UNAVAILABLE carrying the cause', async () => {
    const host = await createHost({ plugins: [`${hostFixtures}/failing-dep`], logger: () => {} })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('needs-broken').call('ok'), 'DEPENDENCY_UNAVAILABLE')
    assert.equal(error.plugin, 'needs-broken')
    assert.deepEqual(error.data, { dependency: 'broken', code: 'ACTIVATION_FAILED' })
    assert.equal(host.plugin('broken').info().status, 'failed')
    assert.equal(host.plugin('needs-broken').info().status, 'inactive')
  })

  it('concurrent activations share one start, and a start during a stop waits for it', async () => {
    const trace: string[] = []
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const { host } = await appHost({
      // core's deactivate traces; holding that answer keeps core in "stopping" until the test has called it.
      api: {
        trace: async (line: string) => {
          trace.push(line)
          if (line === 'deactivate core') await held
        },
      },
    })
    after(() => host.close())
    await Promise.all([host.plugin('core').activate(), host.plugin('core').activate(), host.plugin('core').call('double', [1])])
    assert.equal(trace.filter((l) => l === 'activate core').length, 1)
    const stopping = host.plugin('core').stop()
    await until(() => host.plugin('core').info().status === 'stopping')
    const again = host.plugin('core').call('double', [2])
    release()
    await stopping
    assert.equal(await again, 4)
    assert.equal(host.plugin('core').info().status, 'active')
    assert.equal(host.stats().find((s) => s.id === 'core')?.activations, 2)
  })

  it('reload() restarts one plugin and hands the snapshot from deactivate to the next activate', async () => {
    const { host, trace } = await appHost()
    after(() => host.close())
    const core = host.plugin('core')
    await core.call('bump')
    assert.equal(await core.call('bump'), 2)
    await host.reload('core')
    assert.equal(trace.at(-1), 'activate core with count 2')
    assert.equal(await core.call('bump'), 3)
    assert.equal(core.info().activationReason, 'reload')
  })

  it('releases what a plugin registered at run time when it deactivates, though it never unsubscribed', async () => {
    const { host } = await appHost()
    after(() => host.close())
    await host.plugin('ui').activate()
    assert.equal(host.events.listenerCount('tick'), 1)
    const before = (await host.plugin('ui').call('ticks')) as number
    await host.events.publish('tick')
    assert.equal(await host.plugin('ui').call('ticks'), before + 1)
    await host.plugin('ui').stop()
    assert.equal(host.events.listenerCount('tick'), 0)
    assert.equal(await host.events.publish('tick'), 0)
  })

  it("reload() of an inline JS plugin runs its changed code: the entry and the files it imports, but one copy of each package", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-inline-reload-'))
    after(() => rm(dir, { recursive: true, force: true }))
    const plugin = join(dir, 'inline-reload')
    await mkdir(join(plugin, 'lib'), { recursive: true })
    await mkdir(join(plugin, 'node_modules', 'counter'), { recursive: true })
    await writeFile(join(plugin, 'polyplug.json'), JSON.stringify({ id: 'inline-reload', version: '1.0.0', kind: 'js', entry: 'index.js' }))
    // A package counts how often it is evaluated: reloads must not load it again.
    await writeFile(join(plugin, 'node_modules', 'counter', 'package.json'), JSON.stringify({ name: 'counter', type: 'module', exports: './index.js' }))
    await writeFile(join(plugin, 'node_modules', 'counter', 'index.js'), 'globalThis.polyplugCounterLoads = (globalThis.polyplugCounterLoads ?? 0) + 1\nexport const loads = () => globalThis.polyplugCounterLoads\n')
    const entry = (tag: string) => `import { word } from './lib/word.js'\nimport { loads } from 'counter'\nexport default { methods: { say: () => '${tag}:' + word, loads } }\n`
    const word = (text: string) => writeFile(join(plugin, 'lib', 'word.js'), `export const word = ${JSON.stringify(text)}\n`)
    await writeFile(join(plugin, 'index.js'), entry('a'))
    await word('one')
    const host = await createHost({ plugins: [dir], logger: () => {} })
    after(() => host.close())
    const api = host.plugin('inline-reload')
    assert.equal(await api.call('say'), 'a:one')
    await word('two')
    await host.reload('inline-reload')
    assert.equal(await api.call('say'), 'a:two')
    await writeFile(join(plugin, 'index.js'), entry('b'))
    await word('three')
    await host.reload('inline-reload')
    assert.equal(await api.call('say'), 'b:three')
    assert.equal(await api.call('loads'), 1)
  })

  it('dev mode: watch() reloads a plugin when its files change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-watch-'))
    after(() => rm(dir, { recursive: true, force: true }))
    await cp(`${hostFixtures}/watched`, join(dir, 'watched'), { recursive: true })
    const host = await createHost({ plugins: [dir], logger: () => {} })
    after(() => host.close())
    assert.equal(await host.plugin('watched').call('version'), 1)
    const reloads: unknown[] = []
    const stop = host.watch('watched', (error) => reloads.push(error ?? 'ok'))
    after(stop)
    const file = join(dir, 'watched', 'index.js')
    await writeFile(file, (await readFile(file, 'utf8')).replace('version: () => 1', 'version: () => 2'))
    await until(() => reloads.length > 0, 10_000)
    assert.equal(reloads[0], 'ok')
    assert.equal(await host.plugin('watched').call('version'), 2)
  })
})
