/** The methods a manifest declares in `contributes.methods`, each as `{ name, params?, result? }` (a bare name is `{ name }`). */
import type { Manifest, MethodDeclaration } from './schema.js'

export type { MethodDeclaration }

type Schema = Record<string, unknown> | boolean

export function declaredMethods(manifest: Pick<Manifest, 'contributes'>): MethodDeclaration[] {
  return (manifest.contributes?.methods ?? []).map((m) => (typeof m === 'string' ? { name: m } : m))
}

/** What an argument is called in messages and in the emitted .d.ts: its schema's `title`, else `argN`. */
export function paramName(schema: Record<string, unknown>, index: number): string {
  const title = schema.title
  return typeof title === 'string' && /^[A-Za-z_$][\w$]*$/.test(title) ? title : `arg${index}`
}

/** Whether a caller may leave the argument out (`"optional": true` in its schema; trailing arguments only). */
export function isOptional(schema: Record<string, unknown>): boolean {
  return schema.optional === true
}

/** How many arguments a call must give: those before the first optional one. */
export function requiredCount(params: readonly Record<string, unknown>[]): number {
  const first = params.findIndex(isOptional)
  return first === -1 ? params.length : first
}

/** The named schemas the methods share (`contributes.$defs`), which `#/$defs/NAME` reaches from any of them. */
export function sharedDefinitions(manifest: Pick<Manifest, 'contributes'>): Record<string, Schema> {
  return (manifest.contributes?.$defs ?? {}) as Record<string, Schema>
}

function follow(root: unknown, pointer: string): unknown {
  let node = root
  for (const part of pointer.split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return node
}

/**
 * What `$ref` names: a JSON pointer into the schema's own document (`root`: a param's or result's
 * schema, e.g. its own `$defs` or `definitions`), else, for `#/$defs/NAME`, the shared definition.
 * `shared` tells which: the name of the shared definition, or undefined for a local one.
 */
export function resolveRef(ref: string, root: Schema, shared: Record<string, Schema>): { target: Schema; shared?: string } | undefined {
  if (!ref.startsWith('#')) return undefined
  const local = follow(root, ref.slice(1))
  if (typeof local === 'object' || typeof local === 'boolean') return { target: local as Schema }
  const name = /^#\/\$defs\/([^/]+)$/.exec(ref)?.[1]
  const key = name === undefined ? undefined : decodeURIComponent(name).replace(/~1/g, '/').replace(/~0/g, '~')
  if (key !== undefined && Object.hasOwn(shared, key)) return { target: shared[key]!, shared: key }
  return undefined
}

/** Every `$ref` string inside `schema`, with its JSON pointer. */
function refsIn(schema: unknown, path: string, out: { path: string; ref: string }[] = []): { path: string; ref: string }[] {
  if (typeof schema !== 'object' || schema === null) return out
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out.push({ path: `${path}/$ref`, ref: value })
    else if (key !== 'const' && key !== 'enum' && key !== 'default' && key !== 'examples') refsIn(value, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, out)
  }
  return out
}

/** What the declared signatures get wrong that JSON Schema cannot say: a `$ref` that reaches nothing, a required argument after an optional one. */
export function methodProblems(manifest: Pick<Manifest, 'contributes'>): { path: string; expected: string; found: string }[] {
  const problems: { path: string; expected: string; found: string }[] = []
  const shared = sharedDefinitions(manifest)
  const unresolved = (root: Schema, path: string) => {
    for (const { path: at, ref } of refsIn(root, path)) {
      if (!resolveRef(ref, root, shared)) {
        problems.push({ path: at, expected: 'a $ref to "#/$defs/NAME" (a name in contributes.$defs) or to a JSON pointer within this schema', found: JSON.stringify(ref) })
      }
    }
  }
  for (const [name, schema] of Object.entries(shared)) unresolved(schema, `/contributes/$defs/${name}`)
  ;(manifest.contributes?.methods ?? []).forEach((m, i) => {
    if (typeof m === 'string') return
    const params = m.params ?? []
    params.forEach((p, j) => {
      unresolved(p, `/contributes/methods/${i}/params/${j}`)
      if (j > 0 && !isOptional(p) && isOptional(params[j - 1]!)) {
        problems.push({ path: `/contributes/methods/${i}/params/${j}`, expected: 'an optional argument (after an optional one, every argument is optional: a call can only leave out trailing ones)', found: `a required argument "${paramName(p, j)}"` })
      }
    })
    if (m.result) unresolved(m.result, `/contributes/methods/${i}/result`)
  })
  return problems
}
