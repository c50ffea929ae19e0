/**
 * Worker and process carriers start from a bundled build (scripts/bundle-carriers.mjs →
 * dist/src/carriers/), so a fresh isolate or process reads one file instead of the RPC serving
 * graph's modules one by one. The bundle holds its own copy of polyplug's modules, while a js
 * plugin imports the package's `polyplug/sdk` and an application's transport or kind the package's
 * `polyplug/registry`: what must be one thing across copies is (a PolyplugError is one by its
 * brand, the registry is one per thread), and a plugin placed in a worker or a (confined, sandboxed)
 * process answers through the bundle with its own error codes intact. A kind whose plugins import
 * `polyplug/sdk` themselves (js) keeps the carriers' modules, which its plugins load anyway; so does
 * every kind without the bundle, or with POLYPLUG_CARRIER_BUNDLE=off. What the bundle's chunks
 * contain is pinned in test/first-call-loads.test.ts; how much faster it starts, in the bench.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { ManifestError } from '../src/manifest/validate.js'
import { CARRIER_BUNDLE_ENV, carrierFile } from '../src/placement/carrier-file.js'
import { landlockAbi } from '../src/placement/sandbox.js'
import { kindModule, registerKind, registryVersion } from '../src/registry/index.js'
import { isPolyplugError, PolyplugError, toPolyplugError } from '../src/rpc/errors.js'
import { fixturesDir, root } from './support/paths.js'

/**
 * A second instance of one of polyplug's modules in this thread, as a carrier's bundle holds one. A
 * module of a shared file (its own file a stub re-exporting from there, scripts/bundle-carriers.mjs
 * bundleHost) is taken from a second instance of that file.
 */
async function secondCopy<T>(distFile: string): Promise<T> {
  const file = `${root}dist/src/${distFile}`
  const stub = /^export \{ (.*) \} from "(.*)"$/m.exec(readFileSync(file, 'utf8'))
  if (!stub) return (await import(`${pathToFileURL(file).href}?second-copy`)) as T
  const shared = (await import(`${new URL(stub[2]!, pathToFileURL(file)).href}?second-copy`)) as Record<string, unknown>
  return Object.fromEntries(stub[1]!.split(', ').map((pair) => pair.split(' as ')).map(([inShared, own]) => [own, shared[inShared!]])) as T
}

const bundleDir = `${root}dist/src/carriers/`
const run = promisify(execFile)

describe('what must be one thing across two copies of polyplug\'s modules in a thread', () => {
  it('a PolyplugError made by another copy of the module is a PolyplugError here, and keeps its code through toPolyplugError', async () => {
    const copy = await secondCopy<typeof import('../src/rpc/errors.js')>('rpc/errors.js')
    assert.notEqual(copy.PolyplugError, PolyplugError, 'the copy is a module instance of its own')
    const theirs = new copy.PolyplugError('E_OWN', 'made by the other copy', { data: { n: 1 } })
    assert.ok(theirs instanceof PolyplugError)
    assert.ok(isPolyplugError(theirs, 'E_OWN'))
    assert.equal(toPolyplugError(theirs), theirs, 'kept as it is, not wrapped as FOREIGN_ERROR')
    const ours = new PolyplugError('E_OURS', 'made here')
    assert.ok(ours instanceof copy.PolyplugError && copy.isPolyplugError(ours))
    assert.equal(copy.toPolyplugError(ours).code, 'E_OURS')
  })

  it('an error that merely looks like one (a name and a code) is not a PolyplugError', () => {
    const lookalike = Object.assign(new Error('not ours'), { name: 'PolyplugError', code: 'E_OWN' })
    assert.equal(lookalike instanceof PolyplugError, false)
    assert.equal(toPolyplugError(lookalike).code, 'FOREIGN_ERROR')
  })

  it('a subclass keeps the ordinary check: a PolyplugError is not a ManifestError', () => {
    assert.equal(new PolyplugError('MANIFEST_INVALID', 'plain') instanceof ManifestError, false)
    const manifestError = new ManifestError('polyplug.json', [])
    assert.ok(manifestError instanceof ManifestError && manifestError instanceof PolyplugError)
  })

  it('a kind registered through another copy of the registry is found through this one, and the reverse', async () => {
    const copy = await secondCopy<typeof import('../src/registry/registry.js')>('registry/registry.js')
    const before = registryVersion()
    const theirs = { name: 'second-copy-kind', placements: ['inline'], defaultPlacement: 'inline' } as const
    copy.registerKind(theirs)
    assert.equal(kindModule('second-copy-kind'), theirs)
    assert.equal(registryVersion(), before + 1, 'the manifest validator sees the change')
    const ours = { name: 'this-copy-kind', placements: ['inline'], defaultPlacement: 'inline' } as const
    registerKind(ours)
    assert.equal(copy.kindModule('this-copy-kind'), ours)
    assert.throws(() => copy.registerKind({ ...ours }), /already registered/, 'a name is still taken once, whichever copy took it')
  })

  it('the built-ins a carrier\'s copy registered stay when the package\'s registry loads after them (an application\'s module importing polyplug/registry)', async () => {
    // A fresh thread, as a carrier's: its copy's `js` kind (another object than the package's) is
    // registered first, into the tables every copy of registry.js shares (globalThis, by
    // Symbol.for('polyplug.registry'), as the carrier's bundle leaves them: the package's own
    // registry.js loads with registry/index.js, in one shared file); then registry/index.js
    // registers the package's built-ins.
    const script = `
      const carriers = { name: 'js', placements: ['inline', 'worker', 'process'], defaultPlacement: 'inline' }
      globalThis[Symbol.for('polyplug.registry')] = { transports: new Map(), kinds: new Map([['js', carriers]]), version: 1 }
      const index = await import(${JSON.stringify(`${root}dist/src/registry/index.js`)})
      process.stdout.write(JSON.stringify({ kept: index.kindModule('js') === carriers, wasm: index.kindModule('wasm')?.name }))`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script])
    assert.deepEqual(JSON.parse(stdout), { kept: true, wasm: 'wasm' })
  })
})

describe('which file a carrier starts from', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'polyplug-carrier-file-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))
  const base = () => pathToFileURL(join(dir, 'placement/'))
  const bundles = () => pathToFileURL(join(dir, 'carriers/'))

  it('its module beside the placement code while there is no bundle (running from src, a build without one)', () => {
    assert.equal(carrierFile('worker-carrier', { base: base(), bundles: bundles(), env: {} }).href, new URL('worker-carrier.js', base()).href)
  })

  it('the bundle once it is there, unless POLYPLUG_CARRIER_BUNDLE=off', () => {
    mkdirSync(join(dir, 'carriers'), { recursive: true })
    assert.equal(carrierFile('process-carrier', { base: base(), bundles: bundles(), env: {} }).href, new URL('process-carrier.js', base()).href, 'a bundle folder without this carrier is no bundle')
    writeFileSync(join(dir, 'carriers', 'process-carrier.js'), '')
    assert.equal(carrierFile('process-carrier', { base: base(), bundles: bundles(), env: {} }).href, new URL('process-carrier.js', bundles()).href)
    assert.equal(carrierFile('process-carrier', { base: base(), bundles: bundles(), env: { [CARRIER_BUNDLE_ENV]: 'off' } }).href, new URL('process-carrier.js', base()).href)
  })

  it('its module for a kind whose plugins import polyplug/sdk themselves: they load the package\'s RPC modules anyway', () => {
    assert.equal(carrierFile('process-carrier', { importsSdk: true, base: base(), bundles: bundles(), env: {} }).href, new URL('process-carrier.js', base()).href)
  })

  it('for such a kind in a worker: the carrier built around the SDK\'s modules once it is there, never the bundle with its own copy of them', () => {
    writeFileSync(join(dir, 'carriers', 'worker-carrier.js'), '')
    assert.equal(carrierFile('worker-carrier', { importsSdk: true, base: base(), bundles: bundles(), env: {} }).href, new URL('worker-carrier.js', base()).href, 'without it, the module')
    writeFileSync(join(dir, 'carriers', 'sdk-worker-carrier.js'), '')
    assert.equal(carrierFile('worker-carrier', { importsSdk: true, base: base(), bundles: bundles(), env: {} }).href, new URL('sdk-worker-carrier.js', bundles()).href)
    assert.equal(carrierFile('worker-carrier', { importsSdk: true, base: base(), bundles: bundles(), env: { [CARRIER_BUNDLE_ENV]: 'off' } }).href, new URL('worker-carrier.js', base()).href)
  })

  it('this build has the bundle, and the host starts both carriers from it', () => {
    assert.ok(existsSync(`${bundleDir}worker-carrier.js`) && existsSync(`${bundleDir}process-carrier.js`), 'npm run build bundles the carriers')
    assert.equal(carrierFile('worker-carrier').href, pathToFileURL(`${bundleDir}worker-carrier.js`).href)
    assert.equal(carrierFile('process-carrier', { env: { [CARRIER_BUNDLE_ENV]: 'off' } }).href, pathToFileURL(`${root}dist/src/placement/process-carrier.js`).href)
  })
})

describe('the bundle build keeps each module\'s own import.meta.url', () => {
  type Rewrite = (source: string, file: string, into: string) => string
  const load = async () => ((await import(pathToFileURL(`${root}scripts/bundle-carriers.mjs`).href)) as { ownImportMeta: Rewrite }).ownImportMeta

  it('import.meta.url becomes the URL of the module\'s own file, found from the bundle\'s at run time', async () => {
    const ownImportMeta = await load()
    const out = ownImportMeta("const shim = new URL('./libpolyplug_host.so', import.meta.url)", '/pkg/dist/src/kinds/native-host.js', '/pkg/dist/src/carriers')
    assert.equal(out, 'const shim = new URL(\'./libpolyplug_host.so\', new URL("../kinds/native-host.js", import.meta.url).href)')
    // Evaluated as the bundle would: the shim is found beside the module, not beside the bundle.
    const bundleUrl = 'file:///pkg/dist/src/carriers/worker-carrier.js'
    assert.equal(new URL('./libpolyplug_host.so', new URL('../kinds/native-host.js', bundleUrl).href).href, 'file:///pkg/dist/src/kinds/libpolyplug_host.so')
  })

  it('any other import.meta property is refused, naming the module: it would describe the bundle', async () => {
    const ownImportMeta = await load()
    assert.throws(() => ownImportMeta("import.meta.resolve('msgpackr')", '/pkg/dist/src/placement/confine.js', '/pkg/dist/src/carriers'), /confine\.js: import\.meta\.resolve cannot be bundled/)
    assert.throws(() => ownImportMeta('import.meta.dirname', '/pkg/dist/src/x.js', '/pkg/dist/src/carriers'), /import\.meta\.dirname/)
  })
})

/** The files on the stack of a call into `id`, and the PolyplugError it throws. */
async function probe(host: Host, id: string): Promise<{ files: string[]; error: unknown }> {
  const files = await host.plugin(id).call<string[]>('stackFiles')
  const error = await host.plugin(id).call('fail').then(() => assert.fail('fail() must reject'), (e: unknown) => e)
  return { files, error }
}

/** The error a plugin threw with its own `polyplug/sdk`'s PolyplugError, as the host received it. */
function assertOwnCode(error: unknown, id: string): void {
  assert.ok(error instanceof PolyplugError, `${id}: a PolyplugError`)
  assert.equal(error.code, 'E_PROBE_OWN', `${id}: the plugin's own code, not FOREIGN_ERROR`)
  assert.deepEqual(error.data, { from: 'the plugin' })
}

const carriersCode = /\/dist\/src\/carriers\//
const modulesCode = /\/dist\/src\/(?:sdk|rpc|placement|transports)\//

// `bundled-js` (test/fixtures/carrier-bundle/kind.js) is the application's kind: its carriers run from
// the bundle and import kind.js, which registers it through the package's polyplug/registry; its
// plugins throw the package's PolyplugError. `js` plugins import polyplug/sdk: theirs run from the modules.
await import(`${fixturesDir}/carrier-bundle/kind.js`)

describe('plugins in a worker and in a confined process, served by the bundled carriers', { timeout: 120_000 }, () => {
  let host: Host
  before(async () => {
    host = await createHost({ plugins: [`${fixturesDir}/carrier-bundle`], logger: silentLogger })
  })
  after(() => host?.close())

  it('a worker: the call path runs the bundle\'s code, the application\'s kind is found there, and the plugin\'s own error code arrives', async () => {
    const { files, error } = await probe(host, 'bundle-worker')
    assert.ok(files.some((f) => carriersCode.test(f)), `a frame of the bundle among ${files.join(', ')}`)
    assert.deepEqual(files.filter((f) => modulesCode.test(f)), [], 'no frame of the carrier\'s modules')
    assertOwnCode(error, 'bundle-worker')
  })

  it(`a process runs the bundled carrier under Node's permission model${landlockAbi() >= 1 ? ' and the sandbox launcher' : ''}, and the plugin's own error code arrives`, async () => {
    assert.equal(await host.plugin('bundle-process').call('script'), `${bundleDir}process-carrier.js`)
    const { files, error } = await probe(host, 'bundle-process')
    assert.ok(files.some((f) => carriersCode.test(f)), `a frame of the bundle among ${files.join(', ')}`)
    assert.deepEqual(files.filter((f) => modulesCode.test(f)), [], 'no frame of the carrier\'s modules')
    assertOwnCode(error, 'bundle-process')
  })

  it('sdk-worker: a js plugin imports polyplug/sdk itself, so its worker carrier is the one built around the package\'s SDK modules, which it shares with the plugin', async () => {
    const { files, error } = await probe(host, 'sdk-worker')
    assert.ok(files.some((f) => /\/dist\/src\/(?:sdk\/|rpc\/|shared\/sdk\.js)/.test(f)), `a frame of the package's SDK or RPC modules among ${files.join(', ')}`)
    assert.deepEqual(files.filter((f) => carriersCode.test(f) && !f.endsWith('/sdk-worker-carrier.js')), [], 'no frame of the bundle with its own copy of the RPC core')
    assertOwnCode(error, 'sdk-worker')
  })

  it('sdk-process: a js plugin imports polyplug/sdk itself, so its process carrier runs from the package\'s modules it shares with the plugin', async () => {
    const { files, error } = await probe(host, 'sdk-process')
    assert.ok(files.some((f) => modulesCode.test(f)), `a frame of the carrier's modules among ${files.join(', ')}`)
    assert.deepEqual(files.filter((f) => carriersCode.test(f)), [], 'no frame of the bundle')
    assertOwnCode(error, 'sdk-process')
  })
})

describe('with POLYPLUG_CARRIER_BUNDLE=off the carriers\' modules serve as before', { timeout: 120_000 }, () => {
  let host: Host
  const saved = process.env[CARRIER_BUNDLE_ENV]
  before(async () => {
    process.env[CARRIER_BUNDLE_ENV] = 'off'
    host = await createHost({ plugins: [`${fixturesDir}/carrier-bundle/worker`, `${fixturesDir}/carrier-bundle/process`], logger: silentLogger })
  })
  after(async () => {
    await host?.close()
    if (saved === undefined) delete process.env[CARRIER_BUNDLE_ENV]
    else process.env[CARRIER_BUNDLE_ENV] = saved
  })

  for (const id of ['bundle-worker', 'bundle-process']) {
    it(`${id}: the call path runs the modules, not the bundle`, async () => {
      const { files, error } = await probe(host, id)
      assert.ok(files.some((f) => modulesCode.test(f)), `a frame of the carrier's modules among ${files.join(', ')}`)
      assert.deepEqual(files.filter((f) => carriersCode.test(f)), [], 'no frame of the bundle')
      assertOwnCode(error, id)
    })
  }
  it('the process runs the carrier\'s module', async () => {
    assert.equal(await host.plugin('bundle-process').call('script'), `${root}dist/src/placement/process-carrier.js`)
  })
})
