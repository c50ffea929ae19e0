/**
 * Kinds, transports and placements meet through registry capabilities (src/registry: a kind's
 * `needs`, a transport's `placements`, the placement traits), never by testing one another's name:
 * a comparison with a kind's, transport's or placement's name appears only in that one's own module
 * and in the registry. This reads src/ and fails naming every comparison found elsewhere.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { kindNames, placementsWhere, transportNames } from '../src/registry/index.js'
import { root } from './support/paths.js'

const src = join(root, 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

const files = sources(src).map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }))

/** Where a name may be compared: the registry, and the files of the module that declares it (`name: 'N'`). */
function ownerOf(name: string, folder: 'kinds' | 'transports'): (path: string) => boolean {
  const declaring = files.filter((f) => f.path.startsWith(`src/${folder}/`) && new RegExp(`\\bname: '${name}'`).test(f.text)).map((f) => f.path)
  assert.ok(declaring.length > 0, `no module in src/${folder} declares ${name}`)
  return (path) =>
    declaring.some((module) => {
      const dir = dirname(module)
      // A module in a folder of its own (src/transports/shm/module.ts) owns the folder.
      if (basename(module) === 'module.ts') return path.startsWith(`${dir}/`)
      const prefixes = [basename(module, '.ts').replace(/-module$/, ''), name]
      return dirname(path) === dir && prefixes.some((p) => basename(path) === `${p}.ts` || basename(path).startsWith(`${p}-`))
    })
}

/** The comparisons of `name` with something called kind, transport, placement or name in `text`, as lines. */
export function comparisonsOf(name: string, text: string): string[] {
  // The expression compared ends in one of these words (`manifest.placement`, `transport.name`), not in a trait (`placement.shares`).
  const subject = String.raw`\b(kind|transport|placement|name)\b[?!)\]]*`
  const literal = `['"\`]${name}['"\`]`
  const compared = new RegExp(String.raw`${subject}\s*[!=]==?\s*${literal}|${literal}\s*[!=]==?\s*[\w.?]*\b(kind|transport|placement|name)\b(?![\w.(])`)
  const lines = text.split('\n')
  const found = lines.filter((line) => compared.test(line))
  // `case 'N':` inside a switch on a kind, transport or placement.
  let inSwitch = false
  for (const line of lines) {
    if (/\bswitch\s*\(/.test(line)) inSwitch = /switch\s*\([^)]*\b(kind|transport|placement|name)\b[?!\]]*\s*\)/.test(line)
    if (inSwitch && new RegExp(String.raw`\bcase\s+${literal}\s*:`).test(line)) found.push(line)
  }
  return found.map((l) => l.trim())
}

const groups = [
  { what: 'kind', names: kindNames(), owns: (name: string) => ownerOf(name, 'kinds') },
  { what: 'transport', names: transportNames(), owns: (name: string) => ownerOf(name, 'transports') },
  { what: 'placement', names: placementsWhere(() => true) as string[], owns: () => (path: string) => path.startsWith('src/placement/') },
]

describe('no kind, transport or placement tests another one by name', () => {
  it('the check finds the comparisons it looks for (and not look-alikes)', () => {
    assert.deepEqual(comparisonsOf('worker', "  needs: (manifest) => (manifest.placement === 'worker' ? ['sync-bridge'] : []),"), ["needs: (manifest) => (manifest.placement === 'worker' ? ['sync-bridge'] : []),"])
    assert.equal(comparisonsOf('exec', "if (manifest.kind !== 'exec') return").length, 1)
    assert.equal(comparisonsOf('stdio', "if ('stdio' === transport.name) x()").length, 1)
    assert.equal(comparisonsOf('mqtt', "switch (manifest.transport) {\n  case 'mqtt':\n    return 1\n}").length, 1)
    assert.deepEqual(comparisonsOf('exec', "switch (command) {\n  case 'exec':\n    return 1\n}"), [])
    assert.deepEqual(comparisonsOf('wasm', "const wanted = imports.find((i) => i.kind === 'memory')"), [])
    assert.deepEqual(comparisonsOf('process', "placement.shares === 'process' ? ['sync-bridge'] : []"), [])
  })

  for (const { what, names, owns } of groups) {
    it(`a ${what} name is compared only in its own module and the registry (${names.join(', ')})`, () => {
      assert.ok(names.length >= 4, `the registry lists the ${what}s (${names.join(', ')})`)
      const found: string[] = []
      for (const name of names) {
        const owner = owns(name)
        for (const file of files) {
          if (file.path.startsWith('src/registry/') || owner(file.path)) continue
          for (const line of comparisonsOf(name, file.text)) found.push(`${file.path}: ${line}`)
        }
      }
      assert.deepEqual(found, [], `ask the registry (a kind's needs, a transport's placements, placementTraits) instead:\n${found.join('\n')}`)
    })
  }
})
