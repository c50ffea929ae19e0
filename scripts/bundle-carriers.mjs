// Bundles the worker and process carriers (dist/src/placement/*-carrier.js, after tsc) with the
// modules they import into one file each, dist/src/carriers/{worker,process}-carrier.js, with
// esbuild: a fresh worker isolate or node process then resolves, reads and compiles one file where it
// loaded ~30 modules, each paying Node's per-module resolve and read (docs/performance.md,
// "Footprint"). The host starts carriers from these files where they exist
// (src/placement/carrier-file.ts); dist/src/carriers/meta.json is esbuild's account of what went
// where (test/first-call-loads.test.ts reads it). A third file, sdk-worker-carrier.js, is the worker
// carrier for kinds whose plugins import polyplug/sdk themselves (sdkWorkerCarrier, below).
//
// What a carrier imports on demand (a kind's or transport's module, by the registry) stays on
// demand: esbuild wraps each such module so that it runs when imported, not when the file loads.
// A module that imports a package (msgpackr, ws, mqtt, synckit), itself or through its imports, is
// left out of the file and stays a dynamic import of its own file in dist/src: inside the file its
// package import would become a static import of the whole file and load for every plugin.
// (esbuild's code splitting was measured too: it cuts the shared code into ~90 chunks, of which a
// wasm worker's first call loads 16, and started no faster than this single file.)
//
// The package's entry is made one file beside two shared ones after these (bundleHost, below).
//
// A bundled module's `import.meta.url` would be the bundle's: each is rewritten to the URL of the
// module's own file (still in dist/src beside the bundle), so the addons, hook scripts and data
// files it finds relative to itself are found the same.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const outdir = join(root, 'dist/src/carriers')
export const carriers = ['worker-carrier', 'process-carrier']

/**
 * `source` (the module at `file`) with `import.meta.url` replaced by its own file's URL, computed at
 * run time from the bundle's (in `outdir`). Any other `import.meta` property is refused: it would
 * silently describe the bundle.
 */
export function ownImportMeta(source, file, into = outdir) {
  const other = /\bimport\.meta\.(?!url\b)([A-Za-z_$][\w$]*)/.exec(source)
  if (other) throw new Error(`${file}: import.meta.${other[1]} cannot be bundled (only import.meta.url is rewritten to the module's own file): use new URL(..., import.meta.url)`)
  const own = relative(into, file).split(sep).join('/')
  return source.replace(/\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(own)}, import.meta.url).href`)
}

/** The esbuild plugin applying ownImportMeta to polyplug's own modules. */
function ownUrls(into) {
  return {
    name: 'polyplug-own-import-meta',
    setup(build) {
      build.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => ({
        contents: ownImportMeta(readFileSync(args.path, 'utf8'), args.path, into),
        loader: 'js',
        resolveDir: dirname(args.path),
      }))
    },
  }
}

/**
 * polyplug's modules that import a package (msgpackr, ws, mqtt, synckit), themselves or through the
 * modules they import statically, from a first build's metafile. Inlined into a bundle, their
 * package imports would become static imports of the whole file and load for every plugin.
 */
function packageImporters(metafile) {
  const importers = new Map() // input -> the inputs importing it statically
  const found = new Set()
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const i of input.imports) {
      if (i.kind !== 'import-statement') continue
      if (i.external && !i.path.startsWith('node:')) found.add(file)
      else if (!i.external) importers.set(i.path, [...(importers.get(i.path) ?? []), file])
    }
  }
  const queue = [...found]
  while (queue.length > 0) {
    for (const importer of importers.get(queue.pop()) ?? []) {
      if (found.has(importer)) continue
      found.add(importer)
      queue.push(importer)
    }
  }
  return found
}

/**
 * Keeps what a carrier imports on demand on demand: a dynamic import of a module in `onDemand` stays
 * an import of that module's own file (with the modules it imports), instead of going into the bundle.
 */
function onDemandModules(onDemand, into) {
  return ownFiles('polyplug-on-demand', into, (kind, file) => kind === 'dynamic-import' && onDemand.has(file))
}

/**
 * An esbuild plugin that leaves each relative import it `picks` (by the import's kind and the
 * imported file, relative to the root) out of the bundle, as an import of that file in dist/src.
 */
/** `file` relative to the package's root, with forward slashes: how the layout names a module. */
const fromRoot = (file) => relative(root, file).split(sep).join('/')

function ownFiles(name, into, picks) {
  return {
    name,
    setup(build) {
      build.onResolve({ filter: /^\./, namespace: 'file' }, (args) => {
        const file = join(args.resolveDir, args.path)
        if (!picks(args.kind, fromRoot(file))) return undefined
        return { path: `./${relative(into, file).split(sep).join('/')}`, external: true }
      })
    },
  }
}

/**
 * Node's built-in modules load when the module importing them runs, not when the file loads.
 * esbuild hoists every `import … from 'node:x'` of the bundle to the file's top, including those of
 * the modules it wraps to run on demand, so a wasm plugin's worker would load node:child_process,
 * node:net and node:crypto (≈40 internal modules, compiled in each fresh isolate) for the process
 * placement's and the transports' code it never runs. Each `node:x` becomes a CommonJS module of
 * the bundle (`module.exports = require('node:x')`, through the file's own createRequire), which
 * esbuild evaluates where its importer runs: at the file's start for the carrier's own modules,
 * on demand for the rest.
 */
const lazyBuiltins = {
  name: 'polyplug-lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => (args.namespace === 'node-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'node-builtin' }))
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = __polyplugRequire(${JSON.stringify(args.path)})`, loader: 'js' }))
  },
}
const requireBanner = `import { createRequire as __polyplugCreateRequire } from 'node:module';\nconst __polyplugRequire = __polyplugCreateRequire(import.meta.url);`

/** What every file built here is: an ES module for Node 20, packages left to Node, with a source map back to the TypeScript. */
const esmForNode = { absWorkingDir: root, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', sourcemap: 'linked', metafile: true, logLevel: 'warning' }

/** One carrier file each: every module it imports, and what it imports on demand inlined to run on demand (esbuild wraps those). */
const options = (plugins, write = true, first = []) => ({
  ...esmForNode,
  entryPoints: carriers.map((name) => `dist/src/placement/${name}.js`),
  outdir,
  entryNames: '[name]',
  write,
  banner: { js: requireBanner },
  plugins: [...first, ownUrls(outdir), lazyBuiltins, ...plugins],
})

export async function bundleCarriers() {
  const { build } = await import('esbuild')
  rmSync(outdir, { recursive: true, force: true })
  mkdirSync(outdir, { recursive: true })
  const first = await build(options([], false))
  const onDemand = onDemandModules(packageImporters(first.metafile), outdir)
  const result = await build(options([onDemand]))
  writeFileSync(join(outdir, 'meta.json'), `${JSON.stringify(result.metafile, null, 1)}\n`)
  await build(sdkWorkerCarrierOptions([sdkShared(await sdkModules(build), outdir)]))
  return result.metafile
}

/** The build of the sdk worker carrier (below), with `plugins` deciding where the SDK's modules come from. */
const sdkWorkerCarrierOptions = (plugins, write = true, first = []) => ({ ...options([...plugins, onlyJsWorkerNeedsInline(outdir)], write, first), entryPoints: { [sdkWorkerCarrier]: 'dist/src/placement/worker-carrier.js' } })

/**
 * The worker carrier for a kind whose plugins import `polyplug/sdk` themselves (js): one file as
 * above, but every module of the SDK's static graph (the RPC core, the serving side) stays an import
 * of the package's own file, which the plugin's import then shares. Only what the carrier adds to
 * the SDK — the carrier, the registry, the kind, the port transport — is in the file: one file
 * where a js worker read a dozen beside the SDK's, and no second copy of the RPC core (which is why
 * the carrier above, with the core inlined, is not used for these kinds).
 */
export const sdkWorkerCarrier = 'sdk-worker-carrier'

/** The files of `polyplug/sdk`'s static import graph (dist/src/sdk/index.js and what it imports), relative to the root. */
async function sdkModules(build) {
  const dynamicStays = { name: 'polyplug-static-only', setup: (b) => b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined)) }
  const { metafile } = await build({ absWorkingDir: root, entryPoints: ['dist/src/sdk/index.js'], bundle: true, write: false, metafile: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'warning', plugins: [dynamicStays] })
  return new Set(Object.keys(metafile.inputs))
}

/**
 * The modules a js plugin's worker loads on demand every time: the js kind and the port transport.
 * They go into the file; every other dynamic import stays an import of its own file, so the kinds
 * and transports a js worker never runs are not pre-parsed with it.
 */
const jsWorkerNeeds = new Set(['dist/src/kinds/js-module.js', 'dist/src/kinds/js.js', 'dist/src/transports/port-module.js', 'dist/src/transports/port.js'])

function onlyJsWorkerNeedsInline(into) {
  return ownFiles('polyplug-js-worker-needs', into, (kind, file) => kind === 'dynamic-import' && !jsWorkerNeeds.has(file))
}

/** Leaves every module in `shared` out of the file, as an import of its own file in dist/src. */
function sdkShared(shared, into) {
  return ownFiles('polyplug-sdk-shared', into, (_kind, file) => shared.has(file))
}


/**
 * A kind's loader that the host imports in its own thread, made one file in place: the loader
 * (dist/src/kinds/KIND.js) with the helper modules only it imports inlined, every other import left
 * an import of its own file, shared with the host. A first inline plugin of that kind then loads one
 * file where it loaded six, each paying Node's per-module resolve, read, compile and link
 * (docs/performance.md, "Round nine: the wasm kind's loader as one file"). The carriers are bundled
 * before this, from the modules; a worker or process carrier has the same code in its own file.
 * A test or tool that imports a helper module itself gets that module's own copy, as another kind
 * importing it does (the helpers keep no state that two copies would need to share: `prepareWasi`
 * caches node:wasi's class per copy, each copy's first call loads it once).
 */
export const kindLoaders = [{ entry: 'dist/src/kinds/wasm.js', own: ['wasm-call.js', 'wasm-json.js', 'wasm-split.js', 'wasm-memory.js', 'wasm-wasi.js'] }]

/** One file at `file` (not written: the caller writes the outputs) from `contents` read in `folder`, with the first line `banner`. */
function buildAt(build, file, contents, folder, banner, plugins) {
  return build({ ...esmForNode, stdin: { contents, resolveDir: folder, sourcefile: file, loader: 'js' }, outfile: file, write: false, banner: { js: banner }, plugins })
}

/** For a file in `into`: the shared files and what is imported on demand stay imports of their own files, and each module keeps its own import.meta.url. */
function ownAndOnDemand(into) {
  return [sharedStayFrom(into), ownUrls(into), ownFiles('polyplug-on-demand', into, (kind) => kind === 'dynamic-import')]
}

/** The first line of a kind loader made one file. */
export const ONE_FILE = '// polyplug: this kind loader and its own helper modules in one file (scripts/bundle-carriers.mjs, bundleKindLoaders)'

export async function bundleKindLoaders() {
  const { build } = await import('esbuild')
  const done = []
  for (const { entry, own } of kindLoaders) {
    const file = join(root, entry)
    const source = readFileSync(file, 'utf8')
    if (source.startsWith(ONE_FILE)) continue // made one file by an earlier run after the same tsc
    const folder = dirname(file)
    const helpers = new Set(own.map((name) => join(folder, name)))
    const inlined = {
      name: 'polyplug-kind-helpers',
      setup(b) {
        // The helpers sit beside the loader, so every import left outside keeps its specifier as written.
        b.onResolve({ filter: /^\./, namespace: 'file' }, (args) =>
          args.kind === 'import-statement' && helpers.has(join(args.resolveDir, args.path)) ? undefined : { path: args.path, external: true },
        )
      },
    }
    const result = await buildAt(build, file, source, folder, ONE_FILE, [inlined])
    const inputs = Object.keys(result.metafile.inputs).map((input) => basename(input))
    const missing = own.filter((name) => !inputs.includes(name))
    if (missing.length > 0) throw new Error(`${entry}: no longer imports ${missing.join(', ')}; update kindLoaders in scripts/bundle-carriers.mjs`)
    for (const out of result.outputFiles) writeFileSync(out.path, out.contents)
    done.push(entry)
  }
  return done
}

/**
 * The package's entry (`import('polyplug')`, dist/src/index.js) as one file, and the modules it
 * shares with the rest of the package as two more, made in place after tsc. A host's start then
 * resolves, reads, compiles and links three files where it loaded ≈94 modules, each paying Node's
 * per-module cost (docs/performance.md, "Round ten: the package entry as three files").
 *
 * - The entry's file holds the entry and the modules only it imports.
 * - A module any other file polyplug loads may import stays one instance for all of them: the
 *   package's other entry points (`polyplug/sdk`, which an inline plugin imports itself, `/rpc`,
 *   `/registry`, `/manifest`, `/package`) and everything loaded on demand (the worker, process and
 *   remote launchers, the kinds' and transports' code, the dashboard server), with what they import
 *   statically. These modules go into a shared file — `shared/sdk.js` for `polyplug/sdk`'s static
 *   graph (the RPC core, the serving side, the error catalog: what a worker's carrier and the
 *   plugin in it share too), `shared/host.js` for the rest (the registry and the built-in kinds' and
 *   transports' descriptors, which it compares by identity; the manifest's loading and checking) —
 *   and each one's own file becomes a stub that re-exports its bindings from there
 *   (`export { … } from '../shared/sdk.js'`). Whoever imports a module by its own file gets the one
 *   instance the entry's file uses.
 *
 * The entry's own modules are copied only where a program imports one of them by its own file
 * (tests and tools; tsc's files stay): the audit of what two copies may hold apart is in
 * docs/performance.md, and test/host-bundle.test.ts checks the files against these rules.
 */
export const HOST_ONE_FILE = '// polyplug: the package entry and the modules only it imports in one file (scripts/bundle-carriers.mjs, bundleHost)'
export const SHARED_STUB = '// polyplug: this module is in a shared file (scripts/bundle-carriers.mjs, bundleHost)'
export const SHARED_FILE = '// polyplug: modules of the package shared by its entry and the files it loads (scripts/bundle-carriers.mjs, bundleHost)'

export const hostEntry = 'dist/src/index.js'
const sdkEntry = 'dist/src/sdk/index.js'
/** The shared files, relative to dist/src, and which modules each holds. */
export const sharedFiles = { sdk: 'shared/sdk.js', host: 'shared/host.js' }

/** The package's other entry points, from package.json "exports". */
function otherEntries() {
  const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return Object.values(exports).filter((path) => path.endsWith('.js') && path !== `./${hostEntry}`).map((path) => path.slice(2))
}

/** The static import closure of `starts` in esbuild's `inputs`. */
function staticClosure(inputs, starts) {
  const seen = new Set()
  const queue = [...starts]
  while (queue.length > 0) {
    const file = queue.pop()
    if (seen.has(file) || !inputs[file]) continue
    seen.add(file)
    for (const i of inputs[file].imports) if (i.kind === 'import-statement' && !i.external) queue.push(i.path)
  }
  return seen
}

/**
 * Which module goes where: `sdk` (polyplug/sdk's static graph, with its entry), `host` (the rest of
 * the entry's static graph that any other entry point or any module loaded on demand imports, itself
 * or through its static imports), and each module's exported names. From esbuild passes over tsc's
 * files, following every dynamic import.
 */
export async function hostLayout(build) {
  const entries = [hostEntry, ...otherEntries()]
  const scratch = join(root, 'dist/.host-layout')
  const { metafile } = await build({ ...esmForNode, entryPoints: entries, splitting: true, outdir: scratch, write: false, logLevel: 'error' })
  const { inputs } = metafile
  const onDemand = Object.values(inputs).flatMap((input) => input.imports.filter((i) => i.kind === 'dynamic-import' && !i.external).map((i) => i.path))
  const elsewhere = staticClosure(inputs, [...entries.slice(1), ...onDemand])
  const sdk = staticClosure(inputs, [sdkEntry])
  const host = new Set([...staticClosure(inputs, [hostEntry])].filter((file) => elsewhere.has(file) && !sdk.has(file)))
  const members = [...sdk, ...host]
  const named = await build({ ...esmForNode, entryPoints: members, splitting: true, outdir: scratch, write: false, logLevel: 'error' })
  const exportsOf = new Map(Object.values(named.metafile.outputs).filter((o) => o.entryPoint).map((o) => [o.entryPoint, o.exports]))
  return { sdk: [...sdk], host: [...host], exportsOf }
}

/** polyplug's own modules in dist/src, but for the built files (carriers, shared files) and the dashboard's browser script. */
function packageModules(src) {
  const found = []
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) {
        if (!['carriers', 'shared', 'client'].includes(entry.name)) walk(path)
      } else if (entry.name.endsWith('.js')) found.push(path)
    }
  }
  walk(src)
  return found
}

/**
 * `file` with its static imports of shared modules (`stubs`) taken from their shared file, every
 * other import left as written. A first line `// polyplug: …` (a file made one by an earlier step)
 * stays first.
 */
async function sharedImports(build, file, text, stubs, stubsPlugin) {
  const folder = dirname(file)
  const first = /^\/\/ polyplug: [^\n]*/.exec(text)?.[0]
  const othersStay = {
    name: 'polyplug-others-stay',
    setup(b) {
      b.onResolve({ filter: /.*/, namespace: 'file' }, (args) => {
        if (args.kind === 'entry-point' || args.importer !== file) return undefined
        const target = args.path.startsWith('.') ? fromRoot(join(folder, args.path)) : undefined
        return args.kind === 'import-statement' && target && stubs.has(target) ? undefined : { path: args.path, external: true }
      })
    },
  }
  const result = await build({
    ...esmForNode,
    entryPoints: [file],
    outfile: file,
    write: false,
    allowOverwrite: true,
    ...(first ? { banner: { js: first } } : {}),
    plugins: [sharedStayFrom(folder), othersStay, stubsPlugin],
  })
  return result.outputFiles
}

/** Leaves the shared files out of a build, as imports of their own files from the folder `into`. */
function sharedStayFrom(into) {
  return {
    name: 'polyplug-shared-files',
    setup(b) {
      b.onResolve({ filter: /^\./, namespace: 'file' }, (args) => {
        const target = fromRoot(join(args.resolveDir, args.path))
        if (!Object.values(sharedFiles).some((f) => target === `dist/src/${f}`)) return undefined
        return { path: specifierFrom(into, join(root, target)), external: true }
      })
    },
  }
}

/** A member's exported names in its shared file: `m<index>_<name>`, unique across the file. */
const sharedName = (index, name) => `m${index}_${name}`

/** The text of a member's stub at `file`: its own names, re-exported from the shared file's. */
function stubText(file, index, names, sharedFile) {
  return `${SHARED_STUB}\nexport { ${names.map((n) => `${sharedName(index, n)} as ${n}`).join(', ')} } from ${JSON.stringify(specifierFrom(dirname(join(root, file)), join(root, 'dist/src', sharedFile)))}\n`
}

/** A relative import specifier of `file` from the folder `from`. */
function specifierFrom(from, file) {
  const path = relative(from, file).split(sep).join('/')
  return path.startsWith('.') ? path : `./${path}`
}

export async function bundleHost() {
  const { build } = await import('esbuild')
  const file = join(root, hostEntry)
  if (builtAfterThisTsc()) return undefined
  const layout = await hostLayout(build)
  const src = join(root, 'dist/src')
  const stubs = new Map() // member (relative to the root) -> its stub's text
  const groups = [['sdk', layout.sdk], ['host', layout.host]]
  let index = 0
  for (const [group, members] of groups) {
    for (const member of members) stubs.set(member, { group, text: stubText(member, index, layout.exportsOf.get(member) ?? [], sharedFiles[group]), index: index++ })
  }
  /** Reads a member of a group other than `inside` (every member, for the entry) as its stub. */
  const membersAsStubs = (inside) => ({
    name: 'polyplug-members-as-stubs',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
        const stub = stubs.get(fromRoot(args.path))
        return stub && stub.group !== inside ? { contents: stub.text, loader: 'js', resolveDir: dirname(args.path) } : undefined
      })
    },
  })
  const written = []
  mkdirSync(join(src, 'shared'), { recursive: true })
  for (const [group, members] of groups) {
    const outfile = join(src, sharedFiles[group])
    const into = dirname(outfile)
    const contents = members.map((m) => `export { ${(layout.exportsOf.get(m) ?? []).map((n) => `${n} as ${sharedName(stubs.get(m).index, n)}`).join(', ')} } from ${JSON.stringify(specifierFrom(into, join(root, m)))}`).join('\n')
    const result = await buildAt(build, outfile, contents, into, SHARED_FILE, [membersAsStubs(group), ...ownAndOnDemand(into)])
    written.push(...result.outputFiles)
  }
  // The js worker's carrier, which shares the SDK's modules with the plugin's own import: from the shared file.
  const carrier = await build(sdkWorkerCarrierOptions([sharedStayFrom(outdir)], false, [membersAsStubs('host')]))
  written.push(...carrier.outputFiles)
  // Every other module of the package that imports a shared module imports it from its shared file,
  // so that no file polyplug loads reads a stub (each would be one more module to load).
  for (const other of packageModules(src)) {
    const path = fromRoot(other)
    if (stubs.has(path) || path === hostEntry) continue
    const text = readFileSync(other, 'utf8')
    const imported = [...text.matchAll(/^(?:import|export)\s[^;'"]*?from\s+['"](\.[^'"]+)['"]/gm)].map((m) => fromRoot(join(dirname(other), m[1])))
    if (!imported.some((i) => stubs.has(i))) continue
    written.push(...(await sharedImports(build, other, text, stubs, membersAsStubs(undefined))))
  }
  const source = ownImportMeta(readFileSync(file, 'utf8'), file, src)
  const result = await buildAt(build, file, source, src, HOST_ONE_FILE, [membersAsStubs(undefined), ...ownAndOnDemand(src)])
  for (const out of [...written, ...result.outputFiles]) writeFileSync(out.path, out.contents)
  for (const [member, stub] of stubs) writeFileSync(join(root, member), stub.text)
  const meta = { entry: result.metafile, sdk: layout.sdk, host: layout.host }
  writeFileSync(join(outdir, 'host-meta.json'), `${JSON.stringify(meta, null, 1)}\n`)
  return meta
}

/** Whether an earlier run after the same tsc made the entry's files: every step then read tsc's files, which that run rewrote. */
const builtAfterThisTsc = () => readFileSync(join(root, hostEntry), 'utf8').startsWith(HOST_ONE_FILE)

if (process.argv[1] === fileURLToPath(import.meta.url) && !builtAfterThisTsc()) {
  await bundleCarriers()
  await bundleKindLoaders()
  await bundleHost()
}

/**
 * The host start's floor, for the bench only (bench/cases/footprint.ts): polyplug's entry
 * (dist/src/index.js) and everything it imports statically in one file at `outfile`, what it
 * imports on demand left as imports of its own files in dist/src. A process that starts a host from
 * it pays polyplug's code once compiled and createHost's own work, without Node's per-module
 * resolve and read: what no layout of the host's modules can go below. The package's entry is the
 * same code in three files (bundleHost: the entry's and the two shared ones, which the package's
 * other files and a plugin's `polyplug/sdk` share); the floor puts the three in one, so the row
 * reads what the split costs. polyplug does not ship it (docs/performance.md, footprint: an
 * application and its inline plugins would hold two copies of the modules they share).
 */
export async function bundleHostFloor(outfile) {
  const { build } = await import('esbuild')
  const into = dirname(outfile)
  const onDemandStays = ownFiles('polyplug-on-demand-stays', into, (kind) => kind === 'dynamic-import')
  const result = await build({ ...esmForNode, sourcemap: false, entryPoints: [hostEntry], outfile, plugins: [ownUrls(into), onDemandStays] })
  return result.metafile
}
