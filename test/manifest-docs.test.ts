/**
 * docs/manifest.md documents every field of the manifest's JSON Schema: each field has its own row
 * in the fields table (an array's row may be written `name[]`), and each field of an array's items is named in its
 * array's row. Objects whose fields all have rows need none of their own. A field added to the schema
 * without a line in the docs fails here.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { root } from './support/paths.js'

interface SchemaNode {
  type?: string
  properties?: Record<string, SchemaNode>
  items?: SchemaNode
  anyOf?: SchemaNode[]
}

/** Every field path: `a`, `a.b`, `list[]`, `list[].field`. */
function fieldsOf(node: SchemaNode, path = ''): { path: string; isObject: boolean }[] {
  const out: { path: string; isObject: boolean }[] = []
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = path ? `${path}.${key}` : key
    for (const variant of [child, ...(child.anyOf ?? [])]) {
      if (variant.type === 'array' && variant.items) {
        out.push({ path: `${here}[]`, isObject: false })
        // Items may be one of several shapes (e.g. a name or an object): each shape's fields count.
        for (const item of [variant.items, ...(variant.items.anyOf ?? [])]) out.push(...fieldsOf(item, `${here}[]`))
      }
    }
    out.push({ path: here, isObject: child.properties !== undefined && Object.keys(child.properties).length > 0 })
    out.push(...fieldsOf(child, here))
  }
  return out
}

const schema = JSON.parse(readFileSync(`${root}schema/polyplug.schema.json`, 'utf8')) as SchemaNode
const doc = readFileSync(`${root}docs/manifest.md`, 'utf8')
const rows = new Map(
  doc
    .split('\n')
    .map((line) => /^\| `([^`]+)` \|(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
)

describe('docs/manifest.md and the schema', () => {
  const fields = fieldsOf(schema)
  it('the schema has the fields this test walks (the walk itself works)', () => {
    for (const expected of ['id', 'sidecar.command', 'permissions.fs[]', 'permissions.fs[].access', 'remote.url', 'contributes.methods[].params', 'validateParams']) {
      assert.ok(fields.some((f) => f.path === expected), expected)
    }
  })

  it('every field of the schema is documented', () => {
    const missing: string[] = []
    for (const { path, isObject } of fields) {
      const item = /^(.*\[\])\.([^.[\]]+)$/.exec(path)
      if (item) {
        const row = rows.get(item[1]!) ?? rows.get(item[1]!.slice(0, -2)) ?? ''
        if (!new RegExp(`\\b${item[2]}\\b`).test(row)) missing.push(`${path} (named in the row of \`${item[1]}\`)`)
        continue
      }
      if (path.includes('[].')) continue // deeper inside array items: covered by the item's own row
      const name = path.replace(/\[\]$/, '')
      const hasRow = rows.has(name) || rows.has(`${name}[]`)
      const childrenHaveRows = isObject && fields.some((f) => f.path.startsWith(`${path}.`) && (rows.has(f.path) || rows.has(`${f.path}[]`)))
      if (!hasRow && !childrenHaveRows) missing.push(name)
    }
    assert.deepEqual(missing, [], `fields without a row in docs/manifest.md: ${missing.join(', ')}`)
  })
})
