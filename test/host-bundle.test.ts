/**
 * The package's entry (`import('polyplug')`) is one file beside two shared ones
 * (scripts/bundle-carriers.mjs, bundleHost; docs/performance.md, "Round ten: the package entry as
 * three files"). The entry's file holds the entry and the modules only it imports; every module
 * another file of the package may import — `polyplug/sdk`'s graph, which an inline plugin imports
 * itself, the registry, what the launchers and kinds loaded on demand import — is in
 * dist/src/shared/sdk.js or dist/src/shared/host.js, and its own file re-exports it from there.
 * What this must keep: a host's start loads those three files of polyplug's; a plugin's
 * `polyplug/sdk` and an application's `polyplug/registry` are the host's own module instances, not
 * copies; no file the package loads imports one of the entry's own modules by its own file (that
 * would be a second copy); and those modules hold only the module state the audit found safe to copy
 * (a program that imports one of them by its file, as a test does, gets a copy).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { examplesDir, root } from './support/paths.js'

const preload = fileURLToPath(new URL('./support/load-log.js', import.meta.url))
const src = `${root}dist/src/`

/** What scripts/bundle-carriers.mjs writes to dist/src/carriers/host-meta.json (the parts read here). */
interface HostMeta {
  entry: { inputs: Record<string, unknown> }
  sdk: string[]
  host: string[]
}
const meta = JSON.parse(readFileSync(`${src}carriers/host-meta.json`, 'utf8')) as HostMeta
/** The modules in the entry's file, but for the entry (relative to dist/src). */
const ownModules = Object.keys(meta.entry.inputs)
  .filter((file) => file.startsWith('dist/src/') && file !== 'dist/src/index.js' && !meta.sdk.includes(file) && !meta.host.includes(file))
  .map((file) => file.slice('dist/src/'.length))

/**
 * The audit: each of the entry's own modules that keeps state at its top level, and that state. All
 * of it may be held twice: a lazily loaded package (Node's module cache keeps the package itself
 * one) and caches of results that depend only on their inputs. A module that gains such state, or a
 * class of these modules that code tells apart by `instanceof`, fails the test below until it is
 * judged here (and in the docs' table), or moved to a shared file.
 */
const AUDIT: Record<string, string[]> = {
  'host/config.js': ['let ajv'],
  'host/params.js': ['let ajv', 'const compiled = new WeakMap'],
  'host/plugin.js': ['let pidusageModule'],
  'host/resolve.js': ['let semverModule', 'const verdicts = new Map'],
  'host/sqlite.js': ['let open'],
  'host/tracing.js': ['let api'],
}

/** The module-level state of a module, from its TypeScript source: top-level lets and vars, Maps, Sets and WeakMaps made at load, Symbols not from Symbol.for. */
function topLevelState(source: string): string[] {
  const found: string[] = []
  for (const m of source.matchAll(/^(?:export )?(let|var) (\w+)/gm)) found.push(`${m[1]} ${m[2]}`)
  for (const m of source.matchAll(/^(?:export )?const (\w+)(?::[^=\n]+)? = new (Map|Set|WeakMap|WeakSet)\b/gm)) found.push(`const ${m[1]} = new ${m[2]}`)
  for (const m of source.matchAll(/^(?:export )?const (\w+)(?::[^=\n]+)? = Symbol\(/gm)) found.push(`const ${m[1]} = Symbol()`)
  return found
}

/** Every .js file of dist/src that the package loads with a host, as a path relative to dist/src (not the built files, the CLI's, or the dashboard's browser script). */
function packageFiles(folder = src): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return ['carriers', 'shared', 'client', 'cli', 'check'].includes(entry.name) ? [] : packageFiles(path)
    return entry.name.endsWith('.js') ? [relative(src, path)] : []
  })
}

/** The relative imports of a file of dist/src (static and dynamic), each relative to dist/src. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8')
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.[^"']+)["']/g)].map((m) => relative(src, resolve(dirname(join(src, file)), m[1]!)))
}

describe('the package entry as one file beside two shared ones', { timeout: 120_000 }, () => {
  let dir: string
  before(async () => {
    // Inside the package, so that the plugin's `polyplug/sdk` resolves as an application's plugin's does.
    dir = await mkdtemp(`${root}dist/test/host-bundle-`)
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id: 'own-error', version: '1.0.0', kind: 'js', entry: 'index.js', placement: 'inline', transport: 'direct' }))
    await writeFile(
      join(dir, 'index.js'),
      `import { definePlugin, PolyplugError } from 'polyplug/sdk'
      export default definePlugin({ methods: { fail() { throw new PolyplugError('E_OWN', 'thrown by the plugin', { data: { from: 'the plugin' } }) } } })`,
    )
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('importing polyplug and creating a host loads three of polyplug\'s files: the entry\'s and the two shared ones', async () => {
    const log = join(dir, 'loads.txt')
    const script = `
      const { createHost } = await import('polyplug')
      const host = await createHost({ plugins: [${JSON.stringify(`${examplesDir}/js-inline`)}], logger: () => {} })
      process.stdout.write(JSON.stringify(host.list().map((p) => p.id)))
      await host.close()`
    const stdout = await new Promise<string>((done, fail) => {
      execFile(process.execPath, ['--import', preload, '--input-type=module', '-e', script], { cwd: root, timeout: 60_000, env: { ...process.env, POLYPLUG_LOAD_LOG: log } }, (error, out, stderr) =>
        error ? fail(new Error(`${error.message}\n${stderr}`)) : done(out),
      )
    })
    assert.deepEqual(JSON.parse(stdout), ['echo-inline'], 'the host found its plugin')
    const loaded = (await readFile(log, 'utf8')).split('\n').filter((file) => file.includes('/dist/src/') && file.endsWith('.js'))
    assert.deepEqual(loaded.map((file) => file.slice(file.indexOf('/dist/src/') + '/dist/src/'.length)).sort(), ['index.js', 'shared/host.js', 'shared/sdk.js'])
  })

  it('a plugin\'s polyplug/sdk is the host\'s: one PolyplugError class, and the error an inline plugin throws arrives with its code', async () => {
    const host = await import('polyplug')
    const sdk = await import('polyplug/sdk')
    assert.equal(sdk.PolyplugError, host.PolyplugError, 'one module instance, not two by their brand')
    const app = await host.createHost({ plugins: [dir], logger: host.silentLogger })
    try {
      const error = await app.plugin('own-error').call('fail').then(() => assert.fail('fail() must reject'), (e: unknown) => e)
      assert.ok(error instanceof host.PolyplugError, 'a PolyplugError to the host')
      assert.equal(Object.getPrototypeOf(error), host.PolyplugError.prototype, 'of the host\'s own class')
      assert.equal((error as InstanceType<typeof host.PolyplugError>).code, 'E_OWN')
    } finally {
      await app.close()
    }
  })

  it('an application\'s polyplug/registry is the host\'s registry, one module instance', async () => {
    const host = await import('polyplug')
    const registry = await import('polyplug/registry')
    assert.equal(registry.registerKind, host.registerKind)
    assert.equal(registry.registerTransport, host.registerTransport)
  })

  it('no file the package loads beside the entry imports one of the entry\'s own modules by its file', () => {
    assert.ok(ownModules.includes('host/host.js') && ownModules.includes('placement/inline.js'), `the host and the inline launcher are the entry's own: ${ownModules.join(', ')}`)
    assert.ok(!ownModules.includes('rpc/peer.js') && !ownModules.includes('registry/registry.js'), 'the RPC core and the registry are shared')
    const own = new Set(ownModules)
    // Programs of their own, which load no entry: `polyplug serve`'s replica, a carrier's isolate or process.
    const elsewhere = new Set(['host/replica.js', 'placement/worker-carrier.js', 'placement/process-carrier.js'])
    const wrong = packageFiles()
      .filter((file) => file !== 'index.js' && !own.has(file) && !elsewhere.has(file))
      .flatMap((file) => importsOf(file).filter((target) => own.has(target) || target === 'index.js').map((target) => `${file} imports ${target}`))
    assert.deepEqual(wrong, [], 'each would load a second copy of a module the entry\'s file holds')
  })

  it('the entry\'s own modules keep only the module state the audit found safe to copy', () => {
    const found: Record<string, string[]> = {}
    const classes: string[] = []
    for (const file of ownModules) {
      const source = readFileSync(`${root}src/${file.replace(/\.js$/, '.ts')}`, 'utf8')
      const state = topLevelState(source)
      if (state.length > 0) found[file] = state
      for (const m of source.matchAll(/^(?:export )?(?:abstract )?class (\w+)/gm)) classes.push(m[1]!)
    }
    assert.deepEqual(found, AUDIT)
    assert.ok(classes.includes('Host'), 'the scan finds the classes')
    const everything = packageFiles().map((file) => readFileSync(join(src, file), 'utf8')).join('\n')
    assert.deepEqual(classes.filter((name) => new RegExp(`instanceof\\s+${name}\\b`).test(everything)), [], 'classes of the entry\'s own modules told apart by instanceof')
  })
})
