/**
 * The wasm kind's loader is one file in the build (scripts/bundle-carriers.mjs, `bundleKindLoaders`):
 * dist/src/kinds/wasm.js holds the helper modules only it imports, so a host's first inline wasm
 * plugin makes Node's module loader resolve, read, compile and link one file where it did six. What
 * the kind shares with the host (the codec, the errors, the SDK's definitions) stays an import of
 * the host's own module. How much CPU that saves is measured by `npm run bench -- --only footprint`
 * (docs/performance.md, "Round nine: the wasm kind's loader as one file").
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import { examplesDir, root } from './support/paths.js'

const script = new URL('../../scripts/bundle-carriers.mjs', import.meta.url).href
const { kindLoaders } = (await import(script)) as { kindLoaders: { entry: string; own: string[] }[] }
const wasmLoader = kindLoaders.find((k) => k.entry === 'dist/src/kinds/wasm.js')!
const preload = fileURLToPath(new URL('./support/load-log.js', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'polyplug-kind-loader-'))
after(() => rm(dir, { recursive: true, force: true }))

describe('the wasm kind loader as one file', { timeout: 120_000 }, () => {
  it('a first inline wasm plugin answers, and its kind loads as one file: none of the helper modules only the loader imports', async () => {
    const log = join(dir, 'loads.txt')
    const program = `
      const { createHost } = await import(${JSON.stringify(`${root}dist/src/index.js`)})
      const host = await createHost({ plugins: [${JSON.stringify(`${examplesDir}/wasm-c-inline`)}], logger: () => {} })
      process.stdout.write(JSON.stringify(await host.plugin('wasm-c-inline').call('echo', ['one file'])))
      await host.close()`
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', preload, '--input-type=module', '-e', program], { env: { ...process.env, POLYPLUG_LOAD_LOG: log } })
    assert.equal(JSON.parse(stdout), 'one file')
    const kinds = (await readFile(log, 'utf8')).split('\n').filter((file) => file.includes('/dist/src/kinds/')).map((file) => file.slice(file.lastIndexOf('/') + 1))
    assert.ok(kinds.includes('wasm.js'), `the load log lists the wasm kind's loader: ${kinds.join(', ')}`)
    assert.deepEqual(kinds.filter((file) => wasmLoader.own.includes(file)), [], 'helper modules loaded beside the loader')
    // What it shares with the host stays the host's module: one errors module in the process, not a copy in the loader.
    assert.ok(!(await readFile(join(root, wasmLoader.entry), 'utf8')).includes('class PolyplugError'), 'the loader holds a copy of the errors module')
  })

  it('the one file maps back to each helper\'s TypeScript source', async () => {
    const map = JSON.parse(await readFile(join(root, `${wasmLoader.entry}.map`), 'utf8')) as { sources: string[] }
    const sources = map.sources.map((source) => source.slice(source.lastIndexOf('/') + 1))
    assert.deepEqual(
      ['wasm.ts', ...wasmLoader.own.map((file) => file.replace(/\.js$/, '.ts'))].filter((source) => !sources.includes(source)),
      [],
      `sources of ${wasmLoader.entry}.map: ${sources.join(', ')}`,
    )
  })
})
