/**
 * The cost of a plugin at start and at rest, per kind and placement: the time from asking for a
 * plugin to its first echo answered, and the RSS it adds once idle (with any process it started),
 * each subject in a fresh process (bench/workers/footprint.ts), against the bare cost of the same
 * program without polyplug: the module imported by hand (js inline), a bare `Worker` and a bare
 * `child_process.spawn` running the same plugin module with a hand-written echo, a bare
 * `WebAssembly.instantiate` of the same .wasm with the ABI called by hand, a bare koffi load of
 * the same library (on the thread, in a Worker, in a spawned node), a bare spawn of python3
 * importing the same plugin file, a bare `loadPyodide()` running it. Medians of interleaved runs.
 * Goal: within 1.2× of the bare cost.
 *
 * Per subject: the wall time to the first answer, the CPU time it took (every thread and process
 * involved; steadier than wall time on a loaded machine), and the idle RSS added; each twice
 * (docs/performance.md, "Footprint"):
 * - `first …` (cold): the first plugin of its kind in a process whose host is up. Besides the
 *   plugin, this pays what the host loads once per kind and placement (the kind's loader, the
 *   carrier's code); the bare side pays its own first-use loads (e.g. koffi, Pyodide).
 * - `second …` (marginal): further plugins of the same program once the first answered, against
 *   further bare instances of it (more Workers, spawns, instantiates, koffi loads, imports): what
 *   each further plugin costs. FURTHER of them are started one after the other and each figure is
 *   their total divided by FURTHER (one plugin's idle RSS is a fraction of a MiB: below what one
 *   sample resolves, where a GC or a page table moves it by as much).
 * The host's own one-time cost is its own row: a process that imported polyplug and created a host,
 * against a bare node process (the `startup` case has host start against plugin count).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, extname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { median, row, type BenchRow } from '../measure.js'

const execFileAsync = promisify(execFile)
const child = fileURLToPath(new URL('../workers/footprint.js', import.meta.url))
const examples = fileURLToPath(new URL('../../../examples', import.meta.url))

let rounds = 5
/**
 * The host start's three samples (a host, a bare node, the one-file floor) take ≈ 0.1 s each, and a
 * process's CPU time moves by 20–50 % from one start to the next on these machines: a median of 3
 * read 1.74× where 21 alternated rounds of the same build read 1.14× (round ten). So they get more
 * rounds than a plugin's samples, which cost seconds each.
 */
let hostRounds = 21
export function setQuick(on: boolean): void {
  rounds = on ? 3 : 5
  hostRounds = on ? 11 : 21
}

/** inUseMiB: a marginal sample with a Pyodide interpreter on its side (the JS heap and Python heap a further plugin added). */
interface Sample { ms: number; cpuMs: number; rssMiB: number; inUseMiB?: number }

async function sample(args: string[]): Promise<Sample> {
  const { stdout } = await execFileAsync(process.execPath, [child, ...args], { maxBuffer: 1 << 24 })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Sample
}

export interface Subject {
  kind: string
  placement: string
  transport: string
  /** The example folder and its plugin id. */
  folder: string
  id: string
  /** The bare mode of bench/workers/footprint.ts, its target, and (marginal) its second target. */
  bare: string
  target: string
  second?: string
  label: string
  /**
   * Further plugins of this program run copies of this file, one per plugin on both sides, each a
   * program of its own (see `ownCopy`): a further plugin is another plugin, so it finds nothing
   * the first one left in a cache keyed by the file (a module's URL, a compiled `.wasm` by its stat,
   * Python code by its source), on either side.
   */
  secondEntry?: string
  /**
   * A floor row instead of polyplug's: this mode of the child runs on the polyplug side, over the
   * same targets as the bare one, and `floor` names it in the row (`…, wasm worker, floor: …`).
   */
  floor?: { mode: string; name: string }
}

const SUBJECTS: Subject[] = [
  { kind: 'js', placement: 'inline', transport: 'direct', folder: 'js-inline', id: 'echo-inline', bare: 'import', target: 'js-inline/index.js', second: 'shared/conformance.js', secondEntry: 'shared/conformance.js', label: 'import()' },
  { kind: 'js', placement: 'worker', transport: 'port', folder: 'js-worker', id: 'echo-worker', bare: 'worker', target: 'js-worker/index.js', label: 'bare Worker' },
  { kind: 'js', placement: 'process', transport: 'stdio', folder: 'js-process-stdio', id: 'echo-process-stdio', bare: 'spawn', target: 'js-process-stdio/index.js', label: 'bare spawn' },
  { kind: 'wasm', placement: 'inline', transport: 'direct', folder: 'wasm-c-inline', id: 'wasm-c-inline', bare: 'wasm', target: 'wasm-c-inline/plugin.wasm', secondEntry: 'wasm-c-inline/plugin.wasm', label: 'WebAssembly.instantiate' },
  { kind: 'wasm', placement: 'worker', transport: 'port', folder: 'wasm-c-worker', id: 'wasm-c-worker', bare: 'wasm-worker', target: 'wasm-c-worker/plugin.wasm', secondEntry: 'wasm-c-worker/plugin.wasm', label: 'bare Worker + instantiate' },
  { kind: 'native', placement: 'inline', transport: 'direct', folder: 'native-c-inline', id: 'native-c-inline', bare: 'koffi', target: 'native-c-inline/libconformance.so', label: 'koffi load' },
  { kind: 'native', placement: 'worker', transport: 'port', folder: 'native-c-worker', id: 'native-c-worker', bare: 'koffi-worker', target: 'native-c-worker/libconformance.so', label: 'bare Worker + koffi load' },
  // The worker carrier's floor beside the two worker rows it bounds: the bare worker after loading the bundled carrier's file, no session.
  { kind: 'wasm', placement: 'worker', transport: 'port', folder: 'wasm-c-worker', id: 'wasm-c-worker', bare: 'wasm-worker', target: 'wasm-c-worker/plugin.wasm', secondEntry: 'wasm-c-worker/plugin.wasm', label: 'bare Worker + instantiate', floor: { mode: 'carrier-floor-wasm', name: 'floor: + the carrier file' } },
  { kind: 'native', placement: 'worker', transport: 'port', folder: 'native-c-worker', id: 'native-c-worker', bare: 'koffi-worker', target: 'native-c-worker/libconformance.so', label: 'bare Worker + koffi load', floor: { mode: 'carrier-floor-koffi', name: 'floor: + the carrier file' } },
  { kind: 'native', placement: 'process', transport: 'stdio', folder: 'native-c-process', id: 'native-c-process', bare: 'koffi-spawn', target: 'native-c-process/libconformance.so', label: 'bare spawn + koffi load' },
  { kind: 'python', placement: 'process', transport: 'stdio', folder: 'python-stdio', id: 'python-stdio', bare: 'python-spawn', target: 'shared/conformance.py', label: 'bare spawn of python3' },
  { kind: 'python', placement: 'inline', transport: 'direct', folder: 'python-inline', id: 'python-inline', bare: 'pyodide', target: 'shared/conformance.py', secondEntry: 'shared/conformance.py', label: 'loadPyodide()' },
]

/** Relative paths in a manifest, made absolute against its folder, so a copy elsewhere runs the same files. */
function absolute(manifest: Record<string, unknown>, dir: string): Record<string, unknown> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p))
  const out: Record<string, unknown> = { ...manifest, entry: abs(manifest.entry as string) }
  delete out.$schema
  const permissions = manifest.permissions as { fs?: { path: string }[] } | undefined
  if (permissions?.fs) out.permissions = { ...permissions, fs: permissions.fs.map((g) => ({ ...g, path: abs(g.path) })) }
  const sidecar = manifest.sidecar as { command?: string[] } | undefined
  if (sidecar?.command) out.sidecar = { ...sidecar, command: sidecar.command.map((a) => (a.startsWith('.') ? abs(a) : a)) }
  return out
}

/**
 * A copy of a plugin's file that is a program of its own: the same code, with bytes of its own
 * that change nothing it does — a comment line naming the copy in a script, a custom section (id 0,
 * which a runtime ignores) in a `.wasm` module.
 */
export function ownCopy(bytes: Buffer, name: string): Buffer {
  const tag = Buffer.from(`polyplug bench copy ${basename(name)}`)
  if (extname(name) !== '.wasm') return Buffer.concat([bytes, Buffer.from(`\n${extname(name) === '.py' ? '#' : '//'} ${tag}\n`)])
  if (tag.length > 120) throw new Error(`a copy's name is too long for a one-byte section size: ${name}`)
  return Buffer.concat([bytes, Buffer.from([0, tag.length + 1, tag.length]), tag])
}

/** How many further plugins a `second …` sample starts (its figures are per plugin). */
export const FURTHER = 8

/**
 * The further plugins' targets: for polyplug, the example's manifest under FURTHER other ids in
 * `root`; for the bare side, the same program FURTHER times. With `secondEntry`, each plugin on
 * either side gets its own copy of that file in a folder of its own under `copies` (`ownCopy`;
 * inside polyplug's package, so that a script copy's `polyplug/sdk` resolves as the original's does).
 */
export async function furtherPlugins(root: string, copies: string, s: Subject): Promise<{ polyplug: string[]; bare: string[] }> {
  const dir = join(examples, s.folder)
  const manifest = JSON.parse(await readFile(join(dir, 'polyplug.json'), 'utf8')) as Record<string, unknown>
  const polyplug: string[] = []
  const bare: string[] = []
  for (let k = 2; k < FURTHER + 2; k++) {
    let entry: string | undefined
    if (s.secondEntry) {
      // A folder of its own, as every plugin of an application has: a python plugin's folder is
      // its code (the kind stages each .py file in it), so copies sharing one would each stage all.
      // A folder made unique here: a floor row shares its subject's id.
      const own = await mkdtemp(join(copies, `${s.id}-${k}-`))
      entry = join(own, `${s.id}-${k}${extname(s.secondEntry)}`)
      await writeFile(entry, ownCopy(await readFile(join(examples, s.secondEntry)), entry))
    }
    bare.push(entry ?? join(examples, s.second ?? s.target))
    if (s.floor) continue // a floor row runs the bare side's targets
    const copy = absolute({ ...manifest, id: `${s.id}-${k}`, ...(entry ? { entry } : {}) }, dir)
    const folder = join(root, `${s.folder}-${k}`)
    await mkdir(folder)
    await writeFile(join(folder, 'polyplug.json'), JSON.stringify(copy, null, 2))
    polyplug.push(`${folder}#${s.id}-${k}`)
  }
  return { polyplug, bare }
}

/** The host's own rows, by name: its start against a bare node, and the floor of that start measured beside it. */
export const HOST_ROWS = {
  time: 'host start (process start to createHost done)',
  cpu: 'host start CPU',
  rss: 'host start RSS (whole process)',
  floorCpu: 'host start CPU, one-file floor',
  floorRss: 'host start RSS, one-file floor',
} as const

/** polyplug's entry built into one file beside the bench (dist/bench/host-floor/index.js), for the host start's floor. */
export async function hostFloorFile(): Promise<string> {
  const file = fileURLToPath(new URL('../host-floor/index.js', import.meta.url))
  const script = new URL('../../../scripts/bundle-carriers.mjs', import.meta.url).href
  const { bundleHostFloor } = (await import(script)) as { bundleHostFloor: (outfile: string) => Promise<unknown> }
  await bundleHostFloor(file)
  return file
}

export async function run(): Promise<BenchRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'polyplug-footprint-'))
  const copies = await mkdtemp(fileURLToPath(new URL('../footprint-copies-', import.meta.url)))
  const at = (rel: string) => join(examples, rel)
  try {
    const plans = await Promise.all(
      SUBJECTS.map(async (s) => {
        const first = `${at(s.folder)}#${s.id}`
        const further = await furtherPlugins(root, copies, s)
        return {
          s,
          runs: {
            first: { polyplug: s.floor ? [s.floor.mode, at(s.target)] : ['plugin', first], bare: [s.bare, at(s.target)] },
            second: {
              polyplug: s.floor ? [s.floor.mode, at(s.target), ...further.bare] : ['plugin', first, ...further.polyplug],
              bare: [s.bare, at(s.target), ...further.bare],
            },
          },
        }
      }),
    )
    const samples = plans.map(() => ({ first: { polyplug: [] as Sample[], bare: [] as Sample[] }, second: { polyplug: [] as Sample[], bare: [] as Sample[] } }))
    const hostStart = { polyplug: [] as Sample[], bare: [] as Sample[], floor: [] as Sample[] }
    const hostFloor = await hostFloorFile()
    for (let r = 0; r < hostRounds; r++) {
      hostStart.polyplug.push(await sample(['host', `${at('js-inline')}#echo-inline`]))
      hostStart.bare.push(await sample(['node']))
      hostStart.floor.push(await sample(['host-floor', hostFloor, `${at('js-inline')}#echo-inline`]))
    }
    for (let r = 0; r < rounds; r++) {
      for (const [i, { runs }] of plans.entries()) {
        for (const which of ['first', 'second'] as const) {
          samples[i]![which].polyplug.push(await sample(runs[which].polyplug))
          samples[i]![which].bare.push(await sample(runs[which].bare))
        }
      }
    }
    const rows: BenchRow[] = []
    // The host's one-time cost, paid once per application process whatever its plugins: a process
    // that imported polyplug and created a host (one plugin found, none started), against a bare node.
    const hostFields = { kind: 'host', placement: 'in process', transport: '-', peer: 'baseline = a bare node process' }
    const m = (xs: Sample[], k: 'ms' | 'cpuMs' | 'rssMiB') => median(xs.map((x) => x[k]))
    rows.push(row({ name: HOST_ROWS.time, ...hostFields, metric: 'time to host', unit: 'ms', polyplug: m(hostStart.polyplug, 'ms'), baseline: m(hostStart.bare, 'ms') }))
    rows.push(row({ name: HOST_ROWS.cpu, ...hostFields, metric: 'CPU to host', unit: 'ms', polyplug: m(hostStart.polyplug, 'cpuMs'), baseline: m(hostStart.bare, 'cpuMs') }))
    rows.push(row({ name: HOST_ROWS.rss, ...hostFields, metric: 'RSS of the process', unit: 'MiB', polyplug: m(hostStart.polyplug, 'rssMiB'), baseline: m(hostStart.bare, 'rssMiB') }))
    // The floor of the row above, measured beside it: the same host from polyplug's entry built
    // into one file (no per-module resolve and read), against the same bare node.
    const floorFields = { ...hostFields, peer: 'baseline = a bare node process; polyplug = the host from one bundled file (floor)' }
    rows.push(row({ name: HOST_ROWS.floorCpu, ...floorFields, metric: 'CPU to host', unit: 'ms', polyplug: m(hostStart.floor, 'cpuMs'), baseline: m(hostStart.bare, 'cpuMs') }))
    rows.push(row({ name: HOST_ROWS.floorRss, ...floorFields, metric: 'RSS of the process', unit: 'MiB', polyplug: m(hostStart.floor, 'rssMiB'), baseline: m(hostStart.bare, 'rssMiB') }))
    for (const [i, { s }] of plans.entries()) {
      const fields = { kind: s.kind, placement: s.placement, transport: s.transport, peer: `baseline = ${s.label}${s.floor ? `; polyplug = the bare side plus the carrier file, no session` : ''}` }
      const of = `${s.kind} ${s.placement}${s.floor ? `, ${s.floor.name}` : ''}`
      for (const which of ['first', 'second'] as const) {
        const { polyplug, bare } = samples[i]![which]
        const label = which === 'first' ? 'first call' : 'second plugin, first call'
        const rss = which === 'first' ? 'idle RSS' : 'second plugin, idle RSS'
        rows.push(row({ name: `${label}, ${of}`, ...fields, metric: 'time to first call', unit: 'ms', polyplug: median(polyplug.map((x) => x.ms)), baseline: median(bare.map((x) => x.ms)) }))
        rows.push(row({ name: `${label} CPU, ${of}`, ...fields, metric: 'CPU to first call', unit: 'ms', polyplug: median(polyplug.map((x) => x.cpuMs)), baseline: median(bare.map((x) => x.cpuMs)) }))
        if ([...polyplug, ...bare].every((x) => x.inUseMiB !== undefined)) {
          // A further Pyodide plugin's objects land in linear memory already resident, which never
          // shrinks: its RSS delta is a GC's noise on both sides (negative as often as not), so the
          // row reads the memory in use it adds instead, the JS heap and the Python heap, on both sides.
          rows.push(row({ name: `second plugin, memory in use, ${of}`, ...fields, metric: 'JS + Python heap per idle plugin', unit: 'MiB', polyplug: median(polyplug.map((x) => x.inUseMiB ?? 0)), baseline: median(bare.map((x) => x.inUseMiB ?? 0)) }))
          continue
        }
        rows.push(row({ name: `${rss}, ${of}`, ...fields, metric: 'RSS per idle plugin', unit: 'MiB', polyplug: median(polyplug.map((x) => x.rssMiB)), baseline: median(bare.map((x) => x.rssMiB)) }))
      }
    }
    return rows
  } finally {
    await rm(root, { recursive: true, force: true, maxRetries: 5 })
    await rm(copies, { recursive: true, force: true, maxRetries: 5 })
  }
}
