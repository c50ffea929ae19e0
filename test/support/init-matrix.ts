/**
 * The `polyplug init` scaffold matrix: for every language × kind (and each placement, and the
 * transports its kit speaks), the scaffold passes `polyplug check` at once — the real CLI, in a
 * fresh temporary folder, with the declared build run by check. The time of each init + check goes
 * to the test's diagnostics. The matrix is run by three test files (test/init-*.test.ts), a few
 * languages each, so that no one file compiles every toolchain's scaffold.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { polyplug } from './cli.js'
import { requires, tools, type Requirement } from './requires.js'

/** [--lang, transports to scaffold and check, what it needs] */
export const matrix: [lang: string, transports: string[], needs: Requirement[]][] = [
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

/** The scaffold tests of the languages named (each must be in the matrix). */
export function scaffoldSuite(langs: readonly string[]): void {
  const unknown = langs.filter((lang) => !matrix.some(([name]) => name === lang))
  if (unknown.length > 0) throw new Error(`not in the init matrix: ${unknown.join(', ')}`)
  describe(`polyplug init DIR --lang ${langs.join('|')}: the scaffold passes polyplug check at once`, () => {
    let work: string
    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'polyplug-init-'))
    })
    after(() => rm(work, { recursive: true, force: true }))

    for (const [lang, transports, needs] of matrix.filter(([lang]) => langs.includes(lang))) {
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
  })
}
