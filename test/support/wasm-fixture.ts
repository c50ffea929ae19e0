import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { examplesDir } from './paths.js'

/** The conformance module built from kits/c/examples/conformance.c (committed; npm run build:wasm). */
export const conformanceWasm = join(examplesDir, 'wasm-c-worker', 'plugin.wasm')

/**
 * A throwaway plugin folder holding a wasm module and a manifest with the given fields
 * (id, kind and entry filled in). Returns the folder; a `data/` folder with `hello.txt` and a
 * `secret.txt` beside it are created for filesystem tests.
 */
export async function wasmPluginDir(manifest: Record<string, unknown>, wasm: string | Uint8Array = conformanceWasm): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-wasm-'))
  if (typeof wasm === 'string') await copyFile(wasm, join(dir, 'plugin.wasm'))
  else await writeFile(join(dir, 'plugin.wasm'), wasm)
  await mkdir(join(dir, 'data'))
  await writeFile(join(dir, 'data', 'hello.txt'), 'granted contents')
  await writeFile(join(dir, 'secret.txt'), 'not for plugins')
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ version: '1.0.0', kind: 'wasm', entry: 'plugin.wasm', ...manifest }))
  return dir
}
