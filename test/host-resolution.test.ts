import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { rejectsWithCode } from './support/assert-code.js'
import { hostFixtures } from './support/host-fixtures.js'

interface Expected {
  available: string[]
  unavailable: Record<string, { code: string; names: string[] }>
  duplicates: Record<string, { code: string; names: string[] }>
}
const expected = JSON.parse(readFileSync(`${hostFixtures}/resolution/expected.json`, 'utf8')) as Expected
const roots = [`${hostFixtures}/resolution`, `${hostFixtures}/resolution-dup`]

describe('host: dependency resolution (fixtures: test/fixtures/host/resolution/expected.json)', () => {
  it('runs no plugin code, and orders every plugin after its dependencies', async () => {
    const host = await createHost({ plugins: roots, logger: () => {} })
    const order = host.list().map((p) => p.id)
    assert.ok(order.indexOf('base') < order.indexOf('needs-base'))
    assert.ok(order.indexOf('base') < order.indexOf('needs-api'))
    assert.ok(order.indexOf('missing') < order.indexOf('after-missing'))
    assert.ok(host.stats().every((s) => s.activations === 0))
    await host.close()
  })

  it('marks each broken plugin unavailable with an error code naming the plugins involved; the rest are available', async () => {
    const host = await createHost({ plugins: roots, logger: () => {} })
    const byId = Object.fromEntries(host.list().map((p) => [p.id, p]))
    for (const id of expected.available) assert.equal(byId[id]?.status, 'inactive', id)
    for (const [id, want] of Object.entries(expected.unavailable)) {
      assert.equal(byId[id]?.status, 'unavailable', id)
      assert.equal(byId[id]?.lastError?.code, want.code, id)
      for (const name of want.names) assert.ok(byId[id]?.lastError?.message.includes(name), `${id}: message names ${name}: ${byId[id]?.lastError?.message}`)
    }
    await host.close()
  })

  it('keeps the first of two plugins with one id and reports the second as DUPLICATE_PLUGIN_ID', async () => {
    const host = await createHost({ plugins: roots, logger: () => {} })
    assert.equal(host.plugin('base').info().version, '1.2.0')
    const [dup] = host.invalid()
    assert.equal(dup?.error.code, expected.duplicates.base?.code)
    for (const name of expected.duplicates.base?.names ?? []) assert.ok(dup?.error.message.includes(name))
    await host.close()
  })

  it('refuses to start an unavailable plugin with its resolution error, and still serves the others', async () => {
    const host = await createHost({ plugins: roots, logger: () => {} })
    await rejectsWithCode(host.plugin('cycle-a').call('id'), 'DEPENDENCY_CYCLE')
    await rejectsWithCode(host.plugin('after-missing').activate(), 'DEPENDENCY_UNAVAILABLE')
    assert.equal(await host.plugin('needs-api').call('id'), 'needs-api')
    // A dependency on a provided API resolves to its provider, which starts first.
    assert.deepEqual(host.plugin('needs-api').info().dependencies, ['base'])
    assert.equal(host.plugin('base').info().status, 'active')
    assert.equal(host.plugin('base').info().activationReason, 'onDependent')
    await host.close()
  })
})

describe('host: manifests in package.json', () => {
  it('discovers a plugin declared in the "polyplug" field of package.json, resolved like any other', async () => {
    const host = await createHost({ plugins: [`${hostFixtures}/pkg-field`, `${hostFixtures}/resolution`], logger: () => {} })
    after(() => host.close())
    const info = host.plugin('from-package').info()
    assert.equal(info.version, '3.1.0')
    assert.deepEqual(info.dependencies, ['base'])
    assert.equal(await host.plugin('from-package').call('where'), 'package.json')
  })
})
