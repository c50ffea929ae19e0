/**
 * Extism plugins: the PDK-shaped test module's `greet` through polyplug's Extism mode (inline and
 * in a worker) against the same bytes under the official Extism JavaScript SDK (peer column:
 * @extism/extism, in the foreground and with `runInWorker`). Baseline: polyplug's Extism adapter
 * called directly (the kernel and the guest, no RPC).
 */
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import createPlugin from '@extism/extism'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { loadExtismPlugin } from '../../src/kinds/wasm-extism.js'
import type { MethodContext } from '../../src/sdk/define.js'
import { wasmPluginDir } from '../../test/support/wasm-fixture.js'
import { compileWat } from '../../test/support/wat.js'
import { compare, row, type BenchRow } from '../measure.js'

const wat = fileURLToPath(new URL('../../../test/fixtures/wasm/extism-pdk.wat', import.meta.url))
const manifest = (id: string, placement: string) => ({ id, placement, wasm: { abi: 'extism' }, limits: { memoryMb: 64 } })

export async function run(): Promise<BenchRow[]> {
  const wasm = await compileWat(wat)
  const inlineDir = await wasmPluginDir(manifest('extism-inline', 'inline'), wasm)
  const workerDir = await wasmPluginDir(manifest('extism-worker', 'worker'), wasm)
  const host = await createHost({ plugins: [inlineDir, workerDir], logger: silentLogger })
  // The module imports one host function; `greet` never calls it.
  const functions = { 'extism:host/user': { greet: () => 0n } }
  const options = { useWasi: true, logger: console, logLevel: 'error' as const, functions }
  const sdk = await createPlugin({ wasm: [{ data: wasm }] }, options)
  const sdkWorker = await createPlugin({ wasm: [{ data: wasm }] }, { ...options, runInWorker: true })
  const rows: BenchRow[] = []
  try {
    const adapter = await loadExtismPlugin({ id: 'bench', entryPath: `${inlineDir}/plugin.wasm`, manifest: { version: '1.0.0', kind: 'wasm', entry: 'plugin.wasm', transport: 'direct', ...manifest('bench', 'inline') } as never })
    const greet = (adapter.methods as Record<string, (input: string, ctx: MethodContext) => unknown>).greet!
    const noContext = {} as MethodContext
    const inline = host.plugin('extism-inline')
    const worker = host.plugin('extism-worker')
    await inline.activate()
    await worker.activate()
    const [viaInline, direct, viaSdk] = await compare([() => inline.call('greet', ['world']), () => greet('world', noContext), () => sdk.call('greet', 'world')])
    rows.push(row({ name: 'extism inline greet', kind: 'wasm-extism', placement: 'inline', transport: 'direct', polyplug: viaInline!, baseline: direct!, peer: '@extism/extism', peer_value: viaSdk! }))
    const [viaWorker, directAgain, viaSdkWorker] = await compare([() => worker.call('greet', ['world']), () => greet('world', noContext), () => sdkWorker.call('greet', 'world')], { batch: 200 })
    rows.push(row({ name: 'extism worker greet', kind: 'wasm-extism', placement: 'worker', transport: 'port', polyplug: viaWorker!, baseline: directAgain!, peer: '@extism/extism runInWorker', peer_value: viaSdkWorker! }))
  } finally {
    await sdk.close()
    await sdkWorker.close()
    await host.close()
    await rm(inlineDir, { recursive: true, force: true })
    await rm(workerDir, { recursive: true, force: true })
  }
  return rows
}
