/**
 * One list of reserved method names (schema/reserved-methods.json): the host defines each of them
 * in its code and no other `$/` name; no kit spells a `$/` name missing from the list, so a kit
 * cannot answer or send a reserved method under a name the host does not know.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Reserved } from '../src/rpc/wire.js'
import { root } from './support/paths.js'

const reserved = new Set(Object.keys((JSON.parse(readFileSync(`${root}schema/reserved-methods.json`, 'utf8')) as { methods: Record<string, string> }).methods))

/** Source files under `dir` with one of `extensions`, build outputs aside. */
function sources(dir: string, extensions: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return ['target', '__pycache__', 'node_modules'].includes(entry.name) ? [] : sources(path, extensions)
    return extensions.test(entry.name) ? [path] : []
  })
}

/** Every `$/name` in `text` (code and comments alike), with where it is. */
function names(file: string): { name: string; where: string }[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/\$\/[A-Za-z][A-Za-z/]*/g)].map((m) => ({ name: m[0], where: `${file.slice(root.length)}:${text.slice(0, m.index).split('\n').length}` }))
}

/** A family's prefix (`$/stream/`, or `$/` itself) as a kit tests it: it must begin some reserved name. */
const known = (name: string) => reserved.has(name) || (name.endsWith('/') && [...reserved].some((r) => r.startsWith(name)))

describe('one list of reserved method names', () => {
  it('the host defines every listed name in its code, and names no other', () => {
    const files = sources(`${root}src`, /\.ts$/)
    const found = files.flatMap(names)
    assert.deepEqual(found.filter((f) => !known(f.name)), [], 'every $/ name in src/ is listed')
    // defined, not only mentioned: a quoted string literal in the host's code
    const quoted = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/['"](\$\/[A-Za-z][A-Za-z/]*)['"]/g)].map((m) => m[1]!)))
    assert.deepEqual([...reserved].filter((r) => !quoted.has(r)), [], 'every listed name is a string in src/')
    for (const name of Object.values(Reserved)) assert.ok(reserved.has(name), `Reserved.${name} is listed`)
  })

  it('no kit spells a $/ name the list does not hold', () => {
    const files = sources(`${root}kits`, /\.(py|c|h|rs|go|ts)$/)
    const found = files.flatMap(names)
    assert.ok(found.length > 50, `found the kits' reserved names (${found.length})`)
    assert.deepEqual(found.filter((f) => !known(f.name)), [])
  })
})
