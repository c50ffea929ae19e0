/**
 * A plugin's first call loads only what that plugin's kind needs: a JavaScript plugin does not
 * wait for the TypeScript support (semver, the transpile cache), a plugin on the polyplug WASM ABI
 * does not load the Extism ABI (its kernel and its HTTP helper thread's synckit), and a host whose
 * plugin memory nobody asks for does not load pidusage. Every module the host's process loads is
 * recorded (test/support/load-log.ts). A worker carrier registers only its plugin's kind and
 * transport, through a table of the built-ins by name that must list the same modules as the
 * host's. What a worker or process carrier imports statically leaves out what only the host or an
 * inline plugin uses (every module costs its own resolve, read and compile in each fresh isolate).
 * How long a first call takes is measured by `npm run bench -- --only footprint`.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { builtinKinds } from '../src/kinds/modules.js'
import { builtinKindLoaders, builtinTransportLoaders } from '../src/registry/builtins.js'
import { builtinTransports } from '../src/transports/modules.js'
import { examplesDir, root } from './support/paths.js'

const preload = fileURLToPath(new URL('./support/load-log.js', import.meta.url))

/** What a first call to a JS or polyplug-ABI wasm plugin must not load, and why it would be there. */
const NOT_LOADED: [RegExp, string][] = [
  [/node_modules\/semver\//, 'semver (checks the typescript version, for .ts entries only)'],
  [/node_modules\/typescript\//, 'the TypeScript compiler'],
  [/dist\/src\/kinds\/ts-cache\.js/, 'the transpile cache'],
  [/node_modules\/synckit\//, 'synckit (Extism\'s http_request helper thread)'],
  [/dist\/src\/kinds\/(wasm-extism|extism-[a-z-]+)\.js/, 'the Extism ABI'],
  [/node_modules\/pidusage\//, 'pidusage (only for host.memory())'],
  [/node_modules\/ajv\/(?!dist\/runtime\/)/, 'the JSON Schema compiler'],
  [/node_modules\/@sinclair\/typebox\//, 'the manifest schema builder'],
]

/** Creates a host over `folders`, calls `id`.echo for each id, prints the answers; returns what the process loaded. */
/** Where the load logs go, removed after the file's tests. */
const dir = await mkdtemp(join(tmpdir(), 'polyplug-first-call-loads-'))
after(() => rm(dir, { recursive: true, force: true }))

/** The first file of `loaded` each pattern of `table` matches, named by what it is: the modules that should not have loaded. */
function unwanted(loaded: string[], table: [RegExp, string][]): string[] {
  return table.flatMap(([pattern, what]) => loaded.filter((file) => pattern.test(file)).slice(0, 1).map((file) => `${what}: ${file}`))
}

/** Runs `script` in a fresh node (an ES module, from `cwd`) with the load log at `log` on: what it printed, and every file it loaded. */
async function runLogged(log: string, script: string, cwd?: string): Promise<{ stdout: string; loaded: string[] }> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', preload, '--input-type=module', '-e', script], { cwd, timeout: 60_000, env: { ...process.env, POLYPLUG_LOAD_LOG: log } }, (error, out, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(out),
    )
  })
  return { stdout, loaded: (await readFile(log, 'utf8')).split('\n').filter(Boolean) }
}

async function firstCalls(folders: string[], ids: string[]): Promise<{ stdout: string; loaded: string[] }> {
  const script = `
    const { createHost } = await import(${JSON.stringify(`${root}dist/src/index.js`)})
    const host = await createHost({ plugins: ${JSON.stringify(folders)}, logger: () => {} })
    const answers = []
    for (const id of ${JSON.stringify(ids)}) answers.push(await host.plugin(id).call('echo', [id]))
    await host.close()
    process.stdout.write(JSON.stringify(answers))`
  return runLogged(join(dir, `loads-${ids.join('-')}.txt`), script)
}

describe('a first call loads only what its kind needs', { timeout: 120_000 }, () => {
  it('an inline JavaScript plugin and an inline polyplug-ABI wasm plugin: answered, without TypeScript support, the Extism ABI or pidusage', async () => {
    const { stdout, loaded } = await firstCalls([`${examplesDir}/js-inline`, `${examplesDir}/wasm-c-inline`], ['echo-inline', 'wasm-c-inline'])
    assert.deepEqual(JSON.parse(stdout), ['echo-inline', 'wasm-c-inline'])
    // The log really records: both kinds' loaders are in it.
    assert.ok(loaded.some((file) => file.endsWith('/dist/src/kinds/js.js')), 'the load log lists the js kind')
    assert.ok(loaded.some((file) => file.endsWith('/dist/src/kinds/wasm.js')), 'the load log lists the wasm kind')
    assert.deepEqual(unwanted(loaded, NOT_LOADED), [], 'modules these first calls do not need')
  })
})

/** What a host's start (importing polyplug by its package name, createHost over a folder) must not load, and what loads it instead. */
const NOT_AT_HOST_START: [RegExp, string][] = [
  [/node_modules\/prom-client\//, 'prom-client (pluginMetrics loads it on its first call)'],
  [/node_modules\/@opentelemetry\//, 'the OpenTelemetry API (prom-client\'s, or the host\'s once an application registers a tracer)'],
  [/dist\/src\/dashboard\/server\.js/, 'the dashboard server (serveDashboard imports it)'],
  [/dist\/src\/placement\/(worker|process|remote)\.js/, 'a worker, process or remote launcher (the first plugin of that placement imports it)'],
  [/dist\/src\/placement\/sandbox\.js/, 'the process sandbox'],
  [/^node:crypto$/, 'node:crypto (the prebuilt manifest validator is keyed by its schema\'s text, not a digest of it)'],
  [/^node:util$/, 'node:util (a rescan compares manifests with it, and the first scan has nothing to compare)'],
  [/node_modules\/ajv\//, 'Ajv (the prebuilt validator carries its one runtime helper; Ajv loads only to compile a schema the application extended)'],
]

describe('a host\'s start loads what every host runs, not what only some hosts use', { timeout: 120_000 }, () => {
  it('importing polyplug and creating a host over a plugin folder: no metrics library, no dashboard server, no worker, process or remote launcher', async () => {
    const script = `
      const { createHost } = await import('polyplug')
      const host = await createHost({ plugins: [${JSON.stringify(`${examplesDir}/js-inline`)}], logger: () => {} })
      process.stdout.write(JSON.stringify(host.list().map((p) => p.id)))
      await host.close()`
    const { stdout, loaded } = await runLogged(join(dir, 'loads.txt'), script, root)
    assert.deepEqual(JSON.parse(stdout), ['echo-inline'])
    // The log really records: the entry's file and the two shared files (the host, the inline launcher, the manifest validator) are in it.
    for (const file of ['/dist/src/index.js', '/dist/src/shared/sdk.js', '/dist/src/shared/host.js']) {
      assert.ok(loaded.some((f) => f.endsWith(file)), `the load log lists ${file}`)
    }
    assert.deepEqual(unwanted(loaded, NOT_AT_HOST_START), [], 'modules a host\'s start does not need')
  })
})

describe('the built-ins by name (what a worker carrier registers) are the host\'s built-ins', () => {
  for (const [what, modules, loaders] of [
    ['kind', builtinKinds, builtinKindLoaders],
    ['transport', builtinTransports, builtinTransportLoaders],
  ] as const) {
    it(`every built-in ${what}, and nothing else, loads by its name as the same module`, async () => {
      assert.deepEqual(Object.keys(loaders).sort(), modules.map((m) => m.name).sort())
      for (const module of modules) assert.equal(await loaders[module.name]!(), module, `${what} ${module.name}`)
    })
  }
})

describe('what a worker or process carrier loads before its plugin answers', () => {
  const dist = (file: string) => `${root}dist/src/${file}`
  /** The carriers, and the built-in kinds and transports they load for a plugin. */
  const carrierSide = ['placement/worker-carrier.js', 'placement/process-carrier.js', 'placement/carrier-relay.js', 'kinds/js.js', 'kinds/wasm.js', 'kinds/wasm-pump.js', 'kinds/native.js', 'transports/port.js', 'transports/stdio.js'].map(dist)
  /** Host- or inline-only modules, and why a carrier must not import them. */
  const HOST_ONLY: [string, string][] = [
    ['errors/index.js', 'the whole error catalog (host, package and manifest layers): a carrier imports its layer\'s codes'],
    ['sdk/direct.js', 'the inline placement\'s direct calls'],
    ['sdk/throw-site.js', 'where an activate threw: imported when one does'],
  ]

  // The carriers as the host starts them: bundled, one file each (scripts/bundle-carriers.mjs).
  // esbuild's account of the build (meta.json) says which modules went into each file and how they
  // import each other there; what a module imports on demand is evaluated only when imported. Its
  // inputs are the modules as tsc wrote them (the build then points their imports of the package
  // entry's shared modules at the shared files, bundleHost).
  const meta = JSON.parse(readFileSync(`${root}dist/src/carriers/meta.json`, 'utf8')) as EsbuildMeta
  const relative = (file: string) => file.slice(root.length)

  it('the static import graph reaches the RPC core and the kinds, not the host-only modules', () => {
    const graph = staticInputs(meta, carrierSide.map(relative))
    // The walk really follows imports: the serving side and the Peer are in it.
    assert.ok(graph.has('dist/src/sdk/serve.js') && graph.has('dist/src/rpc/peer.js'), 'the graph lists the serving side')
    const wrong = HOST_ONLY.filter(([file]) => graph.has(`dist/src/${file}`)).map(([file, what]) => `${file} (${what}), imported by ${graph.get(`dist/src/${file}`)}`)
    assert.deepEqual(wrong, [], 'host-only modules a carrier imports')
  })

  for (const carrier of ['worker-carrier', 'process-carrier']) {
    const output = meta.outputs[`dist/src/carriers/${carrier}.js`]!
    it(`the bundle, ${carrier}: what it and the built-in kinds and transports run before a plugin answers leaves out the host-only modules`, () => {
      const inFile = new Set(Object.keys(output.inputs))
      const starts = carrierSide.map(relative).filter((file) => inFile.has(file))
      assert.ok(starts.includes(`dist/src/placement/${carrier}.js`) && starts.includes('dist/src/kinds/wasm.js'), `the carrier and the kinds are in its file: ${starts.join(', ')}`)
      const graph = staticInputs(meta, starts)
      assert.ok(graph.has('dist/src/sdk/serve.js') && graph.has('dist/src/rpc/peer.js'), 'the walk reaches the serving side')
      const wrong = HOST_ONLY.filter(([file]) => graph.has(`dist/src/${file}`)).map(([file, what]) => `${file} (${what}), imported by ${graph.get(`dist/src/${file}`)}`)
      assert.deepEqual(wrong, [], 'host-only modules a bundled carrier runs at its start')
    })

    it(`the bundle, ${carrier}: no other file, and no package, is imported before it runs (packages load with the module that needs them)`, () => {
      assert.deepEqual(output.imports.filter((i) => i.kind === 'import-statement' && !i.path.startsWith('node:')).map((i) => i.path), [])
      const onDemand = output.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path)
      assert.ok(onDemand.includes('./../rpc/msgpack.js') || carrier === 'worker-carrier', `msgpackr's codec is imported on demand: ${onDemand.join(', ')}`)
    })

    it(`the bundle, ${carrier}: no Node built-in is imported when the file loads; each loads where the module needing it runs`, () => {
      // esbuild would hoist node:child_process, node:net and node:crypto of the on-demand modules to
      // the file's top, loading them (≈40 internal modules) in every fresh isolate.
      assert.deepEqual(output.imports.filter((i) => i.kind === 'import-statement' && i.path.startsWith('node:')).map((i) => i.path), [])
      const source = readFileSync(`${root}dist/src/carriers/${carrier}.js`, 'utf8')
      assert.match(source, /__polyplugRequire\("node:child_process"\)/, 'node:child_process is required where the process placement\'s code runs')
    })
  }
})

/** What scripts/bundle-carriers.mjs writes to dist/src/carriers/meta.json (esbuild's metafile, the parts read here). */
interface EsbuildMeta {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>
  outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }>
}

/** Every bundled module `starts` import statically (import / export … from), transitively, each with the module that imports it. */
function staticInputs(meta: EsbuildMeta, starts: string[]): Map<string, string> {
  const importer = new Map<string, string>()
  const walk = (file: string, from: string) => {
    if (importer.has(file)) return
    importer.set(file, from)
    for (const i of meta.inputs[file]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) walk(i.path, file)
  }
  for (const file of starts) walk(file, '(start)')
  return importer
}
