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
// A bundled module's `import.meta.url` would be the bundle's: each is rewritten to the URL of the
// module's own file (still in dist/src beside the bundle), so the addons, hook scripts and data
// files it finds relative to itself are found the same.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
function ownFiles(name, into, picks) {
  return {
    name,
    setup(build) {
      build.onResolve({ filter: /^\./, namespace: 'file' }, (args) => {
        const file = join(args.resolveDir, args.path)
        if (!picks(args.kind, relative(root, file).split(sep).join('/'))) return undefined
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
const options = (plugins, write = true) => ({
  ...esmForNode,
  entryPoints: carriers.map((name) => `dist/src/placement/${name}.js`),
  outdir,
  entryNames: '[name]',
  write,
  banner: { js: requireBanner },
  plugins: [ownUrls(outdir), lazyBuiltins, ...plugins],
})

export async function bundleCarriers() {
  const { build } = await import('esbuild')
  rmSync(outdir, { recursive: true, force: true })
  mkdirSync(outdir, { recursive: true })
  const first = await build(options([], false))
  const onDemand = onDemandModules(packageImporters(first.metafile), outdir)
  const result = await build(options([onDemand]))
  writeFileSync(join(outdir, 'meta.json'), `${JSON.stringify(result.metafile, null, 1)}\n`)
  await build({ ...options([sdkShared(await sdkModules(build), outdir), onlyJsWorkerNeedsInline(outdir)]), entryPoints: { [sdkWorkerCarrier]: 'dist/src/placement/worker-carrier.js' } })
  return result.metafile
}

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
    const result = await build({
      ...esmForNode,
      stdin: { contents: source, resolveDir: folder, sourcefile: file, loader: 'js' },
      outfile: file,
      write: false,
      banner: { js: ONE_FILE },
      plugins: [inlined],
    })
    const inputs = Object.keys(result.metafile.inputs).map((input) => basename(input))
    const missing = own.filter((name) => !inputs.includes(name))
    if (missing.length > 0) throw new Error(`${entry}: no longer imports ${missing.join(', ')}; update kindLoaders in scripts/bundle-carriers.mjs`)
    for (const out of result.outputFiles) writeFileSync(out.path, out.contents)
    done.push(entry)
  }
  return done
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleCarriers()
  await bundleKindLoaders()
}

/**
 * The host start's floor, for the bench only (bench/cases/footprint.ts): polyplug's entry
 * (dist/src/index.js) and everything it imports statically in one file at `outfile`, what it
 * imports on demand left as imports of its own files in dist/src. A process that starts a host from
 * it pays polyplug's code once compiled and createHost's own work, without Node's per-module
 * resolve and read: what no layout of the host's modules can go below. polyplug does not ship it
 * (docs/performance.md, footprint: an application and its inline plugins would hold two copies of
 * the modules they share).
 */
export async function bundleHostFloor(outfile) {
  const { build } = await import('esbuild')
  const into = dirname(outfile)
  const onDemandStays = {
    name: 'polyplug-on-demand-stays',
    setup(b) {
      b.onResolve({ filter: /^\./, namespace: 'file' }, (args) =>
        args.kind === 'dynamic-import' ? { path: `./${relative(into, join(args.resolveDir, args.path)).split(sep).join('/')}`, external: true } : undefined,
      )
    },
  }
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['dist/src/index.js'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
    plugins: [ownUrls(into), onDemandStays],
  })
  return result.metafile
}
