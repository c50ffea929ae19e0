/**
 * `polyplug init`: what it refuses, and that it never overwrites. The scaffold matrix (every
 * language's scaffold passes `polyplug check` at once) is in test/init-*.test.ts.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { polyplug } from './support/cli.js'
import { matrix } from './support/init-matrix.js'

describe('polyplug init: refusals', () => {
  let work: string
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-init-'))
  })
  after(() => rm(work, { recursive: true, force: true }))

  it('the scaffold matrix runs every language, across test/init-*.test.ts', async () => {
    const here = new URL('.', import.meta.url)
    let covered = ''
    for (const file of (await readdir(here)).filter((f) => /^init-.+\.test\.js$/.test(f))) covered += await readFile(new URL(file, here), 'utf8')
    for (const [lang] of matrix) assert.match(covered, new RegExp(`'${lang}'`), `no test/init-*.test.ts runs --lang ${lang}`)
  })

  it('--lang c --kind native makes the C native plugin; a kind the language cannot make is refused, naming the kinds it can', async () => {
    const dir = join(work, 'kind-native')
    const made = await polyplug(['init', dir, '--lang', 'c', '--kind', 'native'])
    assert.equal(made.code, 0, made.stderr)
    assert.equal((JSON.parse(await readFile(join(dir, 'polyplug.json'), 'utf8')) as { kind: string }).kind, 'native')
    const refused = await polyplug(['init', join(work, 'kind-bad'), '--lang', 'python', '--kind', 'native'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /--lang python cannot make a plugin of kind "native"; it makes kind exec/)
  })

  it('refuses an unknown language, listing the languages', async () => {
    const refused = await polyplug(['init', join(work, 'cobol'), '--lang', 'cobol'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /unknown language "cobol"/)
    assert.match(refused.stderr, /python +Python 3 sidecar/)
  })

  it('refuses a transport the language\'s kit does not speak, listing those it does', async () => {
    const refused = await polyplug(['init', join(work, 'c-ws'), '--lang', 'c', '--transport', 'ws'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /the c scaffold does not speak transport "ws"; it speaks stdio, unix, tcp, fifo/)
  })

  it('never writes into a folder that is not empty', async () => {
    const dir = join(work, 'not-empty')
    await polyplug(['init', dir, '--lang', 'js'])
    await writeFile(join(dir, 'index.js'), '// mine\n')
    const refused = await polyplug(['init', dir, '--lang', 'python'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /is not empty .*polyplug init writes into a new or empty folder/)
    assert.equal(await readFile(join(dir, 'index.js'), 'utf8'), '// mine\n')
  })

  it('without --lang and without a terminal, says that --lang is needed', async () => {
    const refused = await polyplug(['init', join(work, 'no-lang')])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /init needs --lang/)
  })
})
