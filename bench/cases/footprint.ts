/**
 * The cost of a plugin at start and at rest, per kind and placement: the time from asking for a
 * plugin to its first echo answered, and the RSS it adds once idle (with any process it started),
 * each subject in a fresh process (bench/workers/footprint.ts), against the bare cost of the same
 * thing without polyplug: the module imported by hand (js inline), a bare `Worker` and a bare
 * `child_process.spawn` running the same plugin module with a hand-written echo, a bare
 * `WebAssembly.instantiate` of the same .wasm with the ABI called by hand, a bare koffi load of
 * the same library. Medians of interleaved runs. Goal: within 1.2× of the bare cost.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { median, row, type BenchRow } from '../measure.js'

const execFileAsync = promisify(execFile)
const child = fileURLToPath(new URL('../workers/footprint.js', import.meta.url))
const examples = fileURLToPath(new URL('../../../examples', import.meta.url))

let rounds = 5
export function setQuick(on: boolean): void {
  rounds = on ? 3 : 5
}

interface Sample { ms: number; rssMiB: number }

async function sample(args: string[]): Promise<Sample> {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', child, ...args])
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Sample
}

const SUBJECTS = [
  { kind: 'js', placement: 'inline', transport: 'direct', polyplug: ['js-inline', 'echo-inline'], bare: ['import', 'js-inline/index.js'], label: 'import()' },
  { kind: 'js', placement: 'worker', transport: 'port', polyplug: ['js-worker', 'echo-worker'], bare: ['worker', 'js-worker/index.js'], label: 'bare Worker' },
  { kind: 'js', placement: 'process', transport: 'stdio', polyplug: ['js-process-stdio', 'echo-process-stdio'], bare: ['spawn', 'js-process-stdio/index.js'], label: 'bare spawn' },
  { kind: 'wasm', placement: 'inline', transport: 'direct', polyplug: ['wasm-c-inline', 'wasm-c-inline'], bare: ['wasm', 'wasm-c-inline/plugin.wasm'], label: 'WebAssembly.instantiate' },
  { kind: 'wasm', placement: 'worker', transport: 'port', polyplug: ['wasm-c-worker', 'wasm-c-worker'], bare: ['wasm-worker', 'wasm-c-worker/plugin.wasm'], label: 'bare Worker + instantiate' },
  { kind: 'native', placement: 'inline', transport: 'direct', polyplug: ['native-c-inline', 'native-c-inline'], bare: ['koffi'], label: 'koffi load' },
] as const

export async function run(): Promise<BenchRow[]> {
  const samples = SUBJECTS.map(() => ({ polyplug: [] as Sample[], bare: [] as Sample[] }))
  const at = (rel: string) => `${examples}/${rel}`
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of SUBJECTS.entries()) {
      samples[i]!.polyplug.push(await sample(['plugin', at(s.polyplug[0]), s.polyplug[1]]))
      samples[i]!.bare.push(await sample(s.bare[0] === 'koffi' ? ['koffi'] : [s.bare[0], at(s.bare[1])]))
    }
  }
  const rows: BenchRow[] = []
  for (const [i, s] of SUBJECTS.entries()) {
    const { polyplug, bare } = samples[i]!
    const fields = { kind: s.kind, placement: s.placement, transport: s.transport, peer: `baseline = ${s.label}` }
    rows.push(row({ name: `first call, ${s.kind} ${s.placement}`, ...fields, metric: 'time to first call', unit: 'ms', polyplug: median(polyplug.map((x) => x.ms)), baseline: median(bare.map((x) => x.ms)) }))
    rows.push(row({ name: `idle RSS, ${s.kind} ${s.placement}`, ...fields, metric: 'RSS per idle plugin', unit: 'MiB', polyplug: median(polyplug.map((x) => x.rssMiB)), baseline: median(bare.map((x) => x.rssMiB)) }))
  }
  return rows
}
