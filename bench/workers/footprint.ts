/**
 * Child for the footprint bench, one subject per fresh process (run with --expose-gc): the time
 * from asking for a plugin to its first echo answered, and the RSS it adds once idle (this process
 * and every process it started). Prints `{"ms": …, "rssMiB": …}`.
 *
 *   plugin FOLDER ID        polyplug: a host over FOLDER (made before the clock starts), call ID.echo
 *   import ENTRY            bare inline js: import the module, call its echo
 *   worker ENTRY            bare Worker running bench/workers/bare-plugin.js over ENTRY
 *   spawn ENTRY             bare child_process.spawn of node bare-plugin.js ENTRY, one line echoed
 *   wasm FILE               bare WebAssembly.instantiate of FILE, the ABI called by hand
 *   wasm-worker FILE        bare Worker instantiating FILE (bench/workers/raw-wasm.js)
 *   koffi                   bare koffi load of the native example library, one call
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createHost, type Host } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { stringify } from '../../src/rpc/codec.js'
import { rawEcho as rawKoffi } from '../cases/native.js'
import { rawWasmOf, stubImports } from './raw-wasm.js'

const [mode = '', arg = '', id = ''] = process.argv.slice(2)
const barePlugin = fileURLToPath(new URL('./bare-plugin.js', import.meta.url))
const wasmInput = new TextEncoder().encode(`echo${stringify([1])}`)

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

const settle = () => new Promise((resolve) => setTimeout(resolve, 300))
const gc = () => (globalThis as { gc?: () => void }).gc?.()

let host: Host | undefined
if (mode === 'plugin') host = await createHost({ plugins: [arg], logger: silentLogger })
await settle()
gc()
const rss0 = treeRss()
const keep: unknown[] = []
let child: ChildProcess | undefined
let worker: Worker | undefined
const t0 = performance.now()
switch (mode) {
  case 'plugin':
    await host!.plugin(id).call('echo', [1])
    break
  case 'import': {
    const plugin = (await import(arg)) as { default: { methods: { echo(v: unknown): unknown } } }
    keep.push(plugin.default.methods.echo(1))
    break
  }
  case 'worker':
  case 'wasm-worker': {
    worker = mode === 'worker' ? new Worker(barePlugin, { workerData: { entry: arg } }) : new Worker(new URL('./raw-wasm.js', import.meta.url), { workerData: { wasm: arg } })
    const reply = new Promise((resolve) => worker!.once('message', resolve))
    worker.postMessage(mode === 'worker' ? 1 : wasmInput)
    await reply
    break
  }
  case 'spawn': {
    const c = spawn(process.execPath, [barePlugin, arg], { stdio: ['pipe', 'pipe', 'inherit'] })
    child = c
    const reply = new Promise((resolve) => c.stdout.once('data', resolve))
    c.stdin.write('1\n')
    await reply
    break
  }
  case 'wasm': {
    const bytes = await readFile(arg)
    const { instance } = await WebAssembly.instantiate(bytes, stubImports(new WebAssembly.Module(bytes)))
    const raw = rawWasmOf(instance)
    keep.push(raw, raw.call(wasmInput, 4))
    break
  }
  case 'koffi': {
    const raw = rawKoffi(true)
    keep.push(raw, raw(1))
    break
  }
  default:
    throw new Error(`footprint: unknown mode ${mode}`)
}
const ms = performance.now() - t0
await settle()
gc()
const rssMiB = (treeRss() - rss0) / 2 ** 20
process.stdout.write(`${JSON.stringify({ ms, rssMiB })}\n`)
child?.kill()
await worker?.terminate()
await host?.close()
process.exit(0)
