/**
 * A `.wasm` file is read and compiled once while plugins use it (src/kinds/wasm.ts, compiledWasm), and a
 * file changed on disk is read again, even when rewritten with other bytes of the same size.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { compiledWasm } from '../src/kinds/wasm.js'
import { watToWasm } from './support/wat.js'

const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

/** A module whose one export answers `value`: modules for different values have the same size. */
const answering = (value: number) => watToWasm(`(module (func (export "answer") (result i32) (i32.const ${value})))`)

async function fileOf(bytes: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-wasm-compiled-'))
  dirs.push(dir)
  const path = join(dir, 'plugin.wasm')
  await writeFile(path, bytes)
  return path
}

const answerOf = (module: WebAssembly.Module) => (new WebAssembly.Instance(module).exports as { answer(): number }).answer()

describe('a compiled wasm file', () => {
  it('is compiled once for every plugin of the same unchanged file', async () => {
    const path = await fileOf(await answering(11))
    const first = await compiledWasm(path)
    const second = await compiledWasm(path)
    assert.equal(second.module, first.module)
    assert.equal(answerOf(second.module), 11)
    assert.deepEqual(second.imports, [])
    assert.deepEqual(second.declared(), {})
  })

  it('is read again when the file changes, even to other bytes of the same size', async () => {
    const [eleven, twelve] = [await answering(11), await answering(12)]
    assert.equal(eleven.length, twelve.length)
    const path = await fileOf(eleven)
    assert.equal(answerOf((await compiledWasm(path)).module), 11)
    await writeFile(path, twelve)
    assert.equal(answerOf((await compiledWasm(path)).module), 12)
  })

  it('that is no longer WebAssembly, or gone, fails to load rather than answering from before', async () => {
    const path = await fileOf(await answering(11))
    await compiledWasm(path)
    await writeFile(path, 'not wasm')
    await assert.rejects(compiledWasm(path), WebAssembly.CompileError)
    await rm(path)
    await assert.rejects(compiledWasm(path), { code: 'ENOENT' })
  })
})
