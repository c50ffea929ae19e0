/**
 * `polyplug init`: for every language × kind (and each placement, and the transports its kit speaks),
 * the scaffold passes `polyplug check` at once — the real CLI, in a fresh temporary folder, with the
 * declared build run by check. The time of each init + check goes to the test's diagnostics.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { polyplug } from './support/cli.js'
import { requires, tools, type Requirement } from './support/requires.js'

/** [--lang, transports to scaffold and check, what it needs] */
const matrix: [lang: string, transports: string[], needs: Requirement[]][] = [
  ['js', ['direct', 'port', 'stdio', 'tcp'], []],
  ['ts', ['direct', 'port', 'stdio'], []],
  ['python', ['stdio', 'unix', 'http'], [tools.python3]],
  ['c', ['stdio', 'tcp'], [tools.gcc, tools.jansson]],
  ['rust', ['stdio', 'unix'], [tools.cargo, tools.serdeJson]],
  ['go', ['stdio', 'fifo'], [tools.go]],
  ['c-native', ['direct', 'port', 'stdio'], [tools.gcc]],
  ['rust-native', ['direct', 'stdio'], [tools.cargo, tools.serdeJson]],
  ['c-wasm', ['port', 'direct'], [tools.clang]],
  // npx fetches AssemblyScript from the npm registry into npm's cache on the first build only.
  ['assemblyscript', ['port'], []],
]

/** Scaffolds whose kit speaks streams ($/stream/*): their stream checks must pass, not be skipped. */
const streaming = new Set(['js', 'ts', 'python', 'go'])

describe('polyplug init DIR --lang LANG: the scaffold passes polyplug check at once', () => {
  let work: string
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-init-'))
  })
  after(() => rm(work, { recursive: true, force: true }))

  for (const [lang, transports, needs] of matrix) {
    for (const transport of transports) {
      it(`${lang} over ${transport}`, { skip: requires(...needs) }, async (t) => {
        const dir = join(work, `${lang}-${transport}`)
        const t0 = performance.now()
        const made = await polyplug(['init', dir, '--lang', lang, '--transport', transport])
        assert.equal(made.code, 0, made.stderr)
        const manifest = JSON.parse(await readFile(join(dir, 'polyplug.json'), 'utf8')) as { transport: string }
        assert.equal(manifest.transport, transport)
        const t1 = performance.now()
        const checked = await polyplug(['check', dir])
        const t2 = performance.now()
        assert.equal(checked.code, 0, `${checked.stdout}\n${checked.stderr}`)
        assert.match(checked.stdout, /[1-9]\d* passed, 0 failed/)
        assert.match(checked.stdout, /✓ echo returns its argument/)
        // Kits that speak streams (the Go kit since polyplug/stream.go) pass the stream checks rather than skip them.
        if (streaming.has(lang)) assert.match(checked.stdout, /✓ streams: count\(n\) yields 0\.\.n-1[^\n]*\n {2}✓ streams: sum\(stream\)/)
        t.diagnostic(`timing ${lang}/${transport}: init ${Math.round(t1 - t0)} ms, check (with build) ${Math.round(t2 - t1)} ms`)
      })
    }
  }

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
