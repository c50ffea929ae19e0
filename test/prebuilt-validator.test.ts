/**
 * The prebuilt manifest validator is loaded with the V8 code cache `npm run build` writes beside it
 * (src/manifest/prebuilt-validator.ts): used when it was made from this very file under the same V8
 * and flags, and otherwise not — the file is then compiled from source and checks the same.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { prebuiltValidatorFile } from '../src/manifest/checker.js'
import { cacheFileOf, loadPrebuilt } from '../src/manifest/prebuilt-validator.js'
import { root } from './support/paths.js'

const run = promisify(execFile)
const good = { id: 'a', version: '1.0.0', kind: 'js', entry: 'index.js' }
const bad = { id: 'A', version: 'x', kind: 'js', entry: '' }

/** How a fresh node (with `flags`) loads `file`, and what it answers for a good and a bad manifest. */
async function loadIn(file: URL, flags: string[] = []): Promise<{ cache: string; answers: [boolean, number] }> {
  const module = pathToFileURL(`${root}dist/src/manifest/prebuilt-validator.js`).href
  const script = `const { loadPrebuilt } = await import(${JSON.stringify(module)})
    const { validate, cache } = loadPrebuilt(new URL(${JSON.stringify(file.href)}))
    const ok = validate(${JSON.stringify(good)}); validate(${JSON.stringify(bad)})
    process.stdout.write(JSON.stringify({ cache, answers: [ok, validate.errors.length] }))`
  const { stdout } = await run(process.execPath, [...flags, '--input-type=module', '-e', script], { timeout: 60_000 })
  return JSON.parse(stdout) as { cache: string; answers: [boolean, number] }
}

describe('the prebuilt manifest validator and its code cache', { timeout: 120_000 }, () => {
  let dir: string
  let answers: [boolean, number]
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polyplug-validator-cache-'))
    const { validate } = loadPrebuilt(prebuiltValidatorFile)
    const ok = validate(good)
    validate(bad)
    answers = [ok, validate.errors!.length]
  })
  after(() => rm(dir, { recursive: true, force: true }))

  /** A copy of the build's validator and its cache in the temporary folder, its source changed by `edit`. */
  async function copy(name: string, edit = (source: string) => source): Promise<URL> {
    const file = pathToFileURL(join(dir, name))
    await writeFile(file, edit(await readFile(prebuiltValidatorFile, 'utf8')))
    await copyFile(cacheFileOf(prebuiltValidatorFile), cacheFileOf(file))
    return file
  }

  it('a node with default flags uses the cache the build wrote', async () => {
    assert.deepEqual(await loadIn(prebuiltValidatorFile), { cache: 'used', answers })
    assert.equal(answers[0], true, 'the good manifest passes')
    assert.ok(answers[1] > 0, 'the bad manifest has problems')
  })

  it('a cache made from another source of the same length is not used, and the file checks as written', async () => {
    // V8 checks a cache against the source's length only: one character changed in place keeps it.
    const file = await copy('edited.cjs', (source) => source.replace('"maxLength":214', '"maxLength":215'))
    assert.equal((await readFile(file)).length, (await readFile(prebuiltValidatorFile)).length)
    assert.deepEqual(await loadIn(file), { cache: 'stale', answers })
  })

  it('V8 rejects the cache under other flags, and the file is compiled from source', async () => {
    assert.deepEqual(await loadIn(prebuiltValidatorFile, ['--expose-gc']), { cache: 'rejected', answers })
  })

  it('without a cache file the validator loads from source', async () => {
    const file = await copy('plain.cjs')
    await rm(cacheFileOf(file))
    assert.deepEqual(await loadIn(file), { cache: 'none', answers })
  })
})
