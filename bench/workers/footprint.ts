/**
 * Child for the footprint bench, one subject per fresh process (run without node flags): the time
 * from asking for a plugin to its first echo answered, and the RSS it adds once idle (this process
 * and every process it started), with the CPU time the start took (this process's threads and every
 * process it started; wall time on a loaded machine is mostly waiting). Prints
 * `{"ms": …, "cpuMs": …, "ownCpuMs": …, "rssMiB": …, "plugins": …, "builtins": …}` (ownCpuMs: this
 * process's threads alone, without the processes it started; builtins: how many of Node's built-in
 * modules the window loaded); a marginal sample with a Pyodide interpreter (inline python, either
 * side) adds `inUseMiB`: the JS heap and Python heap in use it added.
 *
 *   MODE TARGET              cold: the first plugin of its kind in this process
 *   MODE TARGET0 TARGET…     marginal: TARGET0 is started and called before the clock, then each
 *                            further TARGET in turn; the figures are per further plugin (the totals
 *                            over N of them divided by N), so that an idle RSS of a fraction of a
 *                            MiB is not read at the resolution of one plugin's pages and one GC
 *
 * Modes (each imports only what it uses, so a bare subject never loads polyplug's host, and a
 * polyplug subject never finds the bare side's packages already loaded):
 *
 *   plugin FOLDER#ID         polyplug: a host over every FOLDER (made before the clock), call ID.echo
 *   import ENTRY             bare inline js: import the module, call its echo (polyplug/sdk, which the
 *                            plugin imports and the host has loaded, is loaded before the clock)
 *   worker ENTRY             bare Worker running bench/workers/bare-plugin.js over ENTRY
 *   spawn ENTRY              bare child_process.spawn of node bare-plugin.js ENTRY, one line echoed
 *   wasm FILE                bare WebAssembly.instantiate of FILE, the ABI called by hand
 *   wasm-worker FILE         bare Worker instantiating FILE (bench/workers/raw-wasm.js)
 *   koffi LIB                bare koffi load of LIB on this thread, the ABI called by hand (bare-native.js)
 *   koffi-worker LIB         the same in a bare Worker
 *   carrier-floor-wasm FILE  the bare wasm-worker after loading the bundled worker carrier's file, no plugin (its floor)
 *   carrier-floor-koffi LIB  the same for koffi-worker
 *   koffi-spawn LIB          the same in a bare spawned node process
 *   python-spawn FILE        bare spawn of python3 bare-plugin.py FILE (the plugin module, a line echo)
 *   pyodide FILE             bare loadPyodide(), the kit and FILE written into its file system, echo called
 *   host FOLDER#ID / node    the host's one-time cost against a bare node process (below)
 *   host-floor FILE FOLDER#ID  the same host started from FILE, polyplug's entry built into one file (its floor)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { collectGarbage } from './gc-unflagged.js'

const [mode = '', ...targets] = process.argv.slice(2)

// The clock is read once here, before any sample's window: the first `performance.now()` in a
// process loads node:perf_hooks (11 built-in modules compiled, ≈8 M instructions, 2–3 ms of CPU).
// Read first inside the window, it was charged to whichever side had not read it yet: to both
// sides of a first-plugin row, and to the bare side alone of a second-plugin row, since polyplug's
// host reads it when it times its first plugin's call, before the clock (docs/performance.md,
// "Round nine").
performance.now()
/** How many of Node's built-in modules this process has loaded (`process.moduleLoadList`). */
const builtinsLoaded = () => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.length
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/** RSS of this process and all its descendants, bytes. */
function treeRss(pid = process.pid): number {
  let total = 0
  try {
    total = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
    for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += treeRss(Number(task))
  } catch {
    // the process ended between the listing and the read
  }
  return total
}

/** The process ids below this one, from /proc (any depth). */
function descendants(pid = process.pid): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    return children.flatMap((child) => [child, ...descendants(child)])
  } catch {
    return []
  }
}

/** CPU time (user + system, every thread) of this process alone, ms. */
function ownCpuMs(): number {
  const own = process.cpuUsage()
  return (own.user + own.system) / 1000
}

/** CPU time (user + system, every thread) of this process and its descendants, ms; a child's to the clock tick (10 ms). */
function treeCpuMs(): number {
  const own = process.cpuUsage()
  let ticks = 0
  for (const pid of descendants()) {
    try {
      // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // ended meanwhile
    }
  }
  return (own.user + own.system) / 1000 + ticks * 10
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300))
// Not under --expose-gc, which makes every node: module compile without Node's code cache (gc-unflagged.ts).
const gc = collectGarbage

/** What a started subject leaves behind: something to keep alive, and how to end it. */
interface Started {
  keep?: unknown
  stop?: () => unknown
}

/** Starts a worker or a child and waits for its first echo. */
async function firstEcho(send: (value: unknown) => void, reply: Promise<unknown>): Promise<void> {
  send(1)
  await reply
}

function inWorker(script: string, workerData: unknown, message: unknown): Promise<Started> {
  const worker = new Worker(script, { workerData })
  return firstEcho(() => worker.postMessage(message), new Promise((resolve) => worker.once('message', resolve))).then(() => ({ stop: () => worker.terminate() }))
}

function inChild(command: string, args: string[]): Promise<Started> {
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  return firstEcho(() => child.stdin!.write('1\n'), new Promise((resolve) => child.stdout!.once('data', resolve))).then(() => ({ stop: () => child.kill() }))
}

/** What the child reads of an Emscripten module: its allocator's figures (dlmalloc's `mallinfo`, written at a pointer). */
type PyModule = { _malloc(n: number): number; _free(p: number): void; _mallinfo(p: number): void; HEAPU32: Uint32Array }
type Py = { FS: { mkdirTree(p: string): void; writeFile(p: string, d: Uint8Array | string): void }; runPython(code: string): unknown; _module: PyModule }
let interpreter: Promise<Py> | undefined
let pyModules = 0

/**
 * The bytes Python holds in a Pyodide interpreter: dlmalloc's allocated space (`uordblks`, the
 * 8th word of `struct mallinfo`). Pyodide's Python allocates every object with malloc (no pymalloc
 * arenas), so this moves by what the objects take; RSS does not, since a further plugin's objects
 * land in linear memory that is already resident (restored from a snapshot or grown earlier) and
 * linear memory never shrinks.
 */
function pythonHeapBytes(module: PyModule): number {
  const at = module._malloc(64)
  module._mallinfo(at)
  const used = module.HEAPU32[(at >> 2) + 7]!
  module._free(at)
  return used
}

/** Set by a Pyodide subject (either side): the interpreter's Python heap in use, bytes. */
let pyHeap: (() => number) | undefined

/** Bare Pyodide: one interpreter per process (a second plugin file is a second module in it, as polyplug shares one between inline plugins with the same grants). */
async function pyodideEcho(file: string): Promise<Started> {
  interpreter ??= (async () => {
    const { loadPyodide } = (await import('pyodide')) as unknown as { loadPyodide: (o?: object) => Promise<Py> }
    const py = await loadPyodide()
    const kit = here('../../../kits/python/')
    py.FS.mkdirTree('/bare/kits/python')
    for (const f of readdirSync(kit)) if (f.endsWith('.py')) py.FS.writeFile(`/bare/kits/python/${f}`, readFileSync(join(kit, f)))
    py.runPython('import sys; sys.path.insert(0, "/bare/kits/python"); sys.path.insert(0, "/bare")')
    return py
  })()
  const py = await interpreter
  pyHeap ??= () => pythonHeapBytes(py._module)
  const name = `plugin${pyModules++}`
  py.FS.writeFile(`/bare/${name}.py`, readFileSync(file))
  return { keep: py.runPython(`import ${name}; ${name}.echo(1)`) }
}

/** The bundled worker carrier the host starts wasm and native workers from (scripts/bundle-carriers.mjs). */
const carrierUrl = () => new URL('../../src/carriers/worker-carrier.js', import.meta.url).href

let host: import('polyplug').Host | undefined
const subjects: Record<string, (target: string) => Promise<Started>> = {
  plugin: async (target) => {
    await host!.plugin(target.slice(target.lastIndexOf('#') + 1)).call('echo', [1])
    return {}
  },
  import: async (entry) => {
    const plugin = (await import(entry)) as { default: { methods: { echo(v: unknown): unknown } } }
    return { keep: plugin.default.methods.echo(1) }
  },
  worker: (entry) => inWorker(here('./bare-plugin.js'), { entry }, 1),
  spawn: (entry) => inChild(process.execPath, [here('./bare-plugin.js'), entry]),
  wasm: async (file) => {
    const { rawWasmOf, stubImports } = await import('./raw-wasm.js')
    const bytes = await readFile(file)
    const { instance } = await WebAssembly.instantiate(bytes, stubImports(new WebAssembly.Module(bytes)))
    const raw = rawWasmOf(instance)
    return { keep: [raw, raw.call(new TextEncoder().encode('echo[1]'), 4)] }
  },
  'wasm-worker': (file) => inWorker(here('./raw-wasm.js'), { wasm: file }, new TextEncoder().encode('echo[1]')),
  koffi: async (lib) => {
    const { bareNative } = await import('./bare-native.js')
    const echo = bareNative(lib)
    return { keep: [echo, echo(1)] }
  },
  'koffi-worker': (lib) => inWorker(here('./bare-native.js'), { native: lib }, 1),
  // The worker carrier's floor: the bare worker's echo after loading the bundled carrier file with no plugin (carrier-floor.js).
  'carrier-floor-wasm': (file) => inWorker(here('./carrier-floor.js'), { carrier: carrierUrl(), then: './raw-wasm.js', wasm: file }, new TextEncoder().encode('echo[1]')),
  'carrier-floor-koffi': (lib) => inWorker(here('./carrier-floor.js'), { carrier: carrierUrl(), then: './bare-native.js', native: lib }, 1),
  'koffi-spawn': (lib) => inChild(process.execPath, [here('./bare-native.js'), lib]),
  'python-spawn': (file) => inChild('python3', [here('../../../bench/workers/bare-plugin.py'), file]),
  pyodide: pyodideEcho,
}
/**
 * The host's own one-time cost: `host FOLDER#ID` imports polyplug and creates a host over FOLDER
 * (its plugin not started); `node` does nothing. Both report the time and CPU since the process
 * began and its whole RSS, so the host row is a node process with a host against a bare one.
 */
if (mode === 'host' || mode === 'host-floor' || mode === 'node') {
  if (mode !== 'node') {
    // host-floor FILE FOLDER#ID: the same host from the one-file build of polyplug's entry
    // (scripts/bundle-carriers.mjs, bundleHostFloor), the floor of loading the host's code.
    const [entry, ...folders] = mode === 'host-floor' ? targets : ['polyplug', ...targets]
    const { createHost, silentLogger } = (await import(entry!)) as typeof import('polyplug')
    host = await createHost({ plugins: folders.map((t) => t.slice(0, t.lastIndexOf('#'))), logger: silentLogger })
  }
  const ms = performance.now()
  const cpuMs = treeCpuMs()
  await settle()
  gc()
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, rssMiB: treeRss() / 2 ** 20 })}\n`)
  await host?.close()
  process.exit(0)
}

/**
 * The Python heap of the interpreter the host runs an inline python plugin in (FOLDER#ID, started):
 * the kind's interpreter for that plugin's grants, found as the kind finds it (the same module as
 * the host's); undefined for any other kind or placement.
 */
async function hostPythonHeap(target: string): Promise<(() => number) | undefined> {
  const folder = target.slice(0, target.lastIndexOf('#'))
  const manifest = JSON.parse(readFileSync(join(folder, 'polyplug.json'), 'utf8')) as import('polyplug').Manifest
  if (manifest.kind !== 'python' || manifest.placement !== 'inline') return undefined
  const { grantsOf, interpretersLoaded, runtimeFor } = await import('../../src/kinds/pyodide-runtime.js')
  const before = interpretersLoaded()
  const runtime = await runtimeFor(grantsOf(manifest, folder), manifest.id)
  if (interpretersLoaded() !== before) throw new Error(`footprint: no interpreter of the host's runs ${target}`)
  const module = (runtime.py as unknown as { _module: PyModule })._module
  return () => pythonHeapBytes(module)
}

const start = subjects[mode]
if (!start || targets.length === 0) throw new Error(`footprint: usage MODE TARGET [TARGET]; unknown mode ${mode}`)

// A js plugin imports polyplug/sdk, which the host has loaded with itself before the clock: the bare
// import finds it loaded too, so both sides load only the plugin's own modules.
if (mode === 'import') await import('polyplug/sdk')
if (mode === 'plugin') {
  // As an application imports it: by its package name (the first package resolution in a process
  // has a one-time cost of its own, which an application pays here, not at a plugin's first call).
  const { createHost, silentLogger } = await import('polyplug')
  host = await createHost({ plugins: targets.map((t) => t.slice(0, t.lastIndexOf('#'))), logger: silentLogger, callTimeoutMs: 120_000 })
}
const started: Started[] = []
const measured = targets.length > 1 ? targets.slice(1) : targets
if (targets.length > 1) started.push(await start(targets[0]!))
if (mode === 'plugin' && targets.length > 1) pyHeap = await hostPythonHeap(targets[0]!)
await settle()
gc()
const inUse = () => process.memoryUsage().heapUsed + pyHeap!()
const inUse0 = pyHeap ? inUse() : 0
const rss0 = treeRss()
const builtins0 = builtinsLoaded()
const cpu0 = treeCpuMs()
const own0 = ownCpuMs()
const t0 = performance.now()
for (const target of measured) started.push(await start(target))
const n = measured.length
const ms = (performance.now() - t0) / n
const cpuMs = (treeCpuMs() - cpu0) / n
// This process's share alone (no child, so no 10 ms ticks): what the host side of a process plugin's start costs.
const ownCpu = (ownCpuMs() - own0) / n
// Node's built-in modules the window loaded (not divided: a first use of a built-in is paid once).
const builtins = builtinsLoaded() - builtins0
await settle()
gc()
const rssMiB = (treeRss() - rss0) / 2 ** 20 / n
// With a Pyodide interpreter (inline python, either side): the memory in use a further plugin adds, JS heap and Python heap.
const inUseMiB = pyHeap ? { inUseMiB: (inUse() - inUse0) / 2 ** 20 / n } : {}
process.stdout.write(`${JSON.stringify({ ms, cpuMs, ownCpuMs: ownCpu, rssMiB, ...inUseMiB, plugins: n, builtins })}\n`)
for (const s of started) await s.stop?.()
await host?.close()
process.exit(0)
