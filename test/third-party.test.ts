/**
 * Transports and kinds are public API: an application registers its own before creating the host.
 * examples/third-party-transport/ holds a transport polyplug does not ship (`lines`); once it is
 * registered, a plugin using it validates and passes the whole plugin conformance suite. A kind
 * (test/fixtures/third-party-kind, `table`) runs inline and in a worker, which imports its module.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { readManifest } from '../src/manifest/load.js'
import { validateManifest } from '../src/manifest/validate.js'
import { registerKind, registerTransport, transportModule } from '../src/registry/index.js'
import { rejectsWithCode } from './support/assert-code.js'
import { examplesDir, fixturesDir } from './support/paths.js'
import { describePluginConformance } from './support/plugin-suite.js'

const example = `${examplesDir}/third-party-transport`
const manifest = { id: 'uses-lines', version: '1.0.0', kind: 'js', entry: 'index.js', placement: 'process', transport: 'lines' }

/** What validation said before the application registered `lines`. */
const refusedBefore = (() => {
  try {
    validateManifest(manifest, 'polyplug.json')
    return undefined
  } catch (error) {
    return error as Error
  }
})()
await import(`${example}/transport.js`)

describe('a transport the application registers', () => {
  it('is refused by validation before it is registered, naming the transports there are', () => {
    assert.ok(refusedBefore, 'validation refused the unknown transport')
    assert.match(refusedBefore.message, /\/transport: expected one of "direct", "port", "stdio".*found "lines"/)
  })

  it('is accepted once registered, for the placements its sides serve', () => {
    assert.equal(validateManifest(manifest, 'polyplug.json').transport, 'lines')
    assert.throws(() => validateManifest({ ...manifest, placement: 'worker' }, 'polyplug.json'), /expected one of "port", "shm" for placement "worker"/)
  })

  it('cannot take a name another module has', async () => {
    await rejectsWithCode(Promise.resolve().then(() => registerTransport({ name: 'lines', sidecar: transportModule('lines')!.sidecar! })), 'INVALID_PARAMS')
    await rejectsWithCode(Promise.resolve().then(() => registerKind({ name: 'js', placements: ['inline'], defaultPlacement: 'inline' })), 'INVALID_PARAMS')
  })
})

describe('a kind the application registers', () => {
  it('loads its plugins inline and in a worker thread', async () => {
    await import(`${fixturesDir}/third-party-kind/kind.js`)
    const host = await createHost({ plugins: [`${fixturesDir}/third-party-kind`], logger: silentLogger })
    try {
      assert.deepEqual(host.list().map((p) => [p.id, p.kind, p.placement]), [['table-inline', 'table', 'inline'], ['table-worker', 'table', 'worker']])
      for (const where of ['inline', 'worker']) {
        assert.equal(await host.plugin(`table-${where}`).call('answer'), 42)
        assert.equal(await host.plugin(`table-${where}`).call('where'), where)
      }
    } finally {
      await host.close()
    }
  })
})

describePluginConformance(await readManifest(`${example}/plugin`))
