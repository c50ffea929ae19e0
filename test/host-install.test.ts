/**
 * Installing, upgrading and removing plugins in a running host: `host.install` and
 * `host.uninstall` (packages, docs/packaging.md) and `host.rescan` (folders changed by hand).
 * Nothing restarts that did not change.
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { generateSigningKeys, packPlugin } from '../src/package/index.js'
import { rejectsWithCode } from './support/assert-code.js'
import { writeGreeter } from './support/greeter.js'
import { until } from './support/wait.js'
import { examplesDir } from './support/paths.js'

let work: string
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'polyplug-host-install-'))
})
after(() => rm(work, { recursive: true, force: true }))

async function pack(options: Parameters<typeof writeGreeter>[1]): Promise<string> {
  return (await packPlugin(await writeGreeter(work, options), { out: work })).file
}

describe('a host that trusts only signed packages', () => {
  it('installs what a trusted key signed and refuses the rest', async () => {
    const publisher = generateSigningKeys()
    const installDir = await mkdtemp(join(work, 'trusting-'))
    const host = await createHost({ plugins: [installDir], trustedKeys: [publisher.publicKey], logger: silentLogger })
    try {
      await rejectsWithCode(host.install(await pack({ version: '1.0.0', word: 'unsigned' })), 'PACKAGE_UNTRUSTED')
      assert.equal(host.has('greet'), false)
      const signed = await packPlugin(await writeGreeter(work, { version: '1.0.0', word: 'trusted' }), { out: work, signWith: publisher.privateKey })
      assert.equal((await host.install(signed.file)).keyId, publisher.keyId)
      assert.equal(await host.plugin('greet').call('greet', ['you']), 'trusted, you')
    } finally {
      await host.close()
    }
  })
})

describe('installing into a running host', () => {
  let host: Host
  let installDir: string
  before(async () => {
    installDir = await mkdtemp(join(work, 'installed-'))
    // An example plugin from a second, read-only root keeps running through all of this.
    host = await createHost({ plugins: [installDir, join(examplesDir, 'js-worker')], installDir, logger: silentLogger })
  })
  after(() => host.close())

  it('install makes a plugin callable at once; the plugins already running keep running', async () => {
    const bystander = host.list().find((p) => p.id !== 'greet')!
    await host.plugin(bystander.id).call('echo', [1])
    const activations = () => host.stats().find((s) => s.id === bystander.id)!.activations
    const before = activations()
    const result = await host.install(await pack({ version: '1.0.0', word: 'hello' }))
    assert.equal(result.dir, join(installDir, 'greet'))
    assert.equal(await host.plugin('greet').call('greet', ['you']), 'hello, you')
    assert.equal(host.plugin(bystander.id).info().status, 'active')
    assert.equal(activations(), before)
  })

  it('an upgrade stops the old version and the next call runs the new code', async () => {
    assert.equal(host.plugin('greet').info().status, 'active')
    const result = await host.install(await pack({ version: '1.1.0', word: 'howdy' }))
    assert.equal(result.replaced, '1.0.0')
    assert.equal(host.plugin('greet').info().version, '1.1.0')
    assert.equal(await host.plugin('greet').call('greet', ['you']), 'howdy, you')
  })

  it('an inline JS plugin upgraded in place runs its new code too (no host restart)', async () => {
    const inline = { id: 'inline-greet', extra: { placement: 'inline' } }
    await host.install(await pack({ ...inline, version: '1.0.0', word: 'first' }))
    assert.equal(await host.plugin('inline-greet').call('greet', ['x']), 'first, x')
    await host.install(await pack({ ...inline, version: '2.0.0', word: 'second' }))
    assert.equal(await host.plugin('inline-greet').call('greet', ['x']), 'second, x')
  })

  it("a plugin waiting for a missing dependency becomes callable once the dependency is installed", async () => {
    await host.install(await pack({ id: 'fan', version: '1.0.0', word: 'cheers', extra: { dependencies: { base: '^2.0.0' } } }))
    assert.equal(host.plugin('fan').info().status, 'unavailable')
    await rejectsWithCode(host.plugin('fan').call('greet', ['x']), 'DEPENDENCY_MISSING')
    await host.install(await pack({ id: 'base', version: '2.0.0', word: 'base' }))
    assert.equal(await host.plugin('fan').call('greet', ['x']), 'cheers, x')
  })

  it('contributions arrive with the plugin and leave with it', async () => {
    const contributes = { commands: [{ id: 'shout.hello', method: 'greet', title: 'Say hello' }] }
    await host.install(await pack({ id: 'shout', version: '1.0.0', word: 'HEY', extra: { contributes } }))
    assert.ok(host.commands.list().some((c) => c.id === 'shout.hello'))
    assert.equal(await host.commands.execute('shout.hello', 'you'), 'HEY, you')
    await host.uninstall('shout')
    assert.equal(host.commands.list().some((c) => c.id === 'shout.hello'), false)
    await rejectsWithCode(host.commands.execute('shout.hello', 'you'), 'COMMAND_NOT_FOUND')
    assert.equal(host.has('shout'), false)
  })

  it('uninstall removes only what lives in the install folder', async () => {
    const other = host.list().find((p) => !p.dir.startsWith(installDir))!
    await rejectsWithCode(host.uninstall(other.id), 'PERMISSION_DENIED')
    assert.equal(await host.plugin(other.id).call('echo', ['kept']), 'kept')
  })

  it('rescan notices folders added and removed by hand', async () => {
    await cp(await writeGreeter(work, { id: 'manual', version: '1.0.0', word: 'by hand' }), join(installDir, 'manual'), { recursive: true })
    assert.deepEqual(await host.rescan(), { added: ['manual'], removed: [], updated: [] })
    assert.equal(await host.plugin('manual').call('greet', ['x']), 'by hand, x')
    await rm(join(installDir, 'manual'), { recursive: true })
    assert.deepEqual(await host.rescan(), { added: [], removed: ['manual'], updated: [] })
    assert.equal(host.has('manual'), false)
    // Removing a dependency makes its dependant unavailable again, and says why.
    await rm(join(installDir, 'base'), { recursive: true })
    const change = await host.rescan()
    assert.deepEqual(change.removed, ['base'])
    await rejectsWithCode(host.plugin('fan').call('greet', ['x']), 'DEPENDENCY_MISSING')
  })

  it('rescan compares manifests by content: the same keys in another order are no update, a changed value is', async () => {
    const dir = join(installDir, 'reordered')
    await cp(await writeGreeter(work, { id: 'reordered', version: '1.0.0', word: 'same' }), dir, { recursive: true })
    await host.rescan()
    assert.equal(await host.plugin('reordered').call('greet', ['x']), 'same, x')
    const activations = () => host.stats().find((s) => s.id === 'reordered')!.activations
    const file = join(dir, 'polyplug.json')
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    const reversed = Object.fromEntries(Object.entries(manifest).reverse())
    assert.notEqual(JSON.stringify(reversed), JSON.stringify(manifest))
    await writeFile(file, JSON.stringify(reversed, null, 2))
    assert.deepEqual(await host.rescan(), { added: [], removed: [], updated: [] })
    assert.equal(host.plugin('reordered').info().status, 'active', 'the running plugin was left alone')
    assert.equal(activations(), 1)
    await writeFile(file, JSON.stringify({ ...reversed, version: '1.0.1' }, null, 2))
    assert.deepEqual(await host.rescan(), { added: [], removed: [], updated: ['reordered'] })
    assert.equal(host.plugin('reordered').info().status, 'inactive', 'the changed plugin was stopped and replaced')
  })
})

describe('watching the plugin folders', () => {
  it('picks up a plugin folder moved in, and drops one deleted, without a call', async () => {
    const root = await mkdtemp(join(work, 'watched-root-'))
    const host = await createHost({ plugins: [root], logger: silentLogger })
    const changes: unknown[] = []
    const stop = host.watchPlugins((result) => changes.push(result))
    try {
      // Moved in whole, as install does: a folder copied file by file may be scanned half-written.
      await rename(await writeGreeter(work, { id: 'dropped-in', version: '1.0.0', word: 'hey' }), join(root, 'dropped-in'))
      await until(() => host.has('dropped-in'), 10_000)
      assert.equal(await host.plugin('dropped-in').call('greet', ['x']), 'hey, x')
      await rm(join(root, 'dropped-in'), { recursive: true })
      await until(() => !host.has('dropped-in'), 10_000)
      assert.ok(changes.every((c) => !(c instanceof Error)))
    } finally {
      stop()
      await host.close()
    }
  })
})
