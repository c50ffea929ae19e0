/**
 * `polyplug types`: a plugin's declared methods (contributes.methods with JSON Schemas, see
 * docs/manifest.md "Typed methods") as a TypeScript interface. The interface gives each method its
 * plain result type; the application uses it as `host.plugin(id).proxy<Api>()`, whose Remote<Api>
 * makes every method async. A JS/TS plugin may implement the same interface.
 *
 * JSON Schema to TypeScript covers the keywords a signature needs: type (and type arrays), const,
 * enum, anyOf/oneOf (a union), allOf (an intersection), properties/required/additionalProperties,
 * items/prefixItems, nullable via type ["x", "null"], title and description (doc comments), and
 * $ref: to a shared definition (contributes.$defs, each emitted as an exported type of its own, so
 * recursive types work) or into the schema's own document (its `$defs`/`definitions`, inlined; a
 * local cycle becomes `unknown`). A param with `"optional": true` is an optional parameter.
 * Anything else (patternProperties, if/then) becomes `unknown`: accepted, never wrong.
 */
import { declaredMethods, isOptional, paramName, resolveRef, sharedDefinitions } from '../manifest/methods.js'
import type { Manifest } from '../manifest/schema.js'

type Schema = Record<string, unknown> | boolean

/** Where `$ref`s lead: the schema document being emitted, the shared definitions and their type names. */
export interface RefContext {
  root: Schema
  shared: Record<string, Schema>
  /** Shared definition name -> its exported type's name. */
  names: ReadonlyMap<string, string>
  /** Local refs being expanded (a cycle stops here). */
  expanding: ReadonlySet<string>
}

const NO_REFS: RefContext = { root: true, shared: {}, names: new Map(), expanding: new Set() }

const IDENT = /^[A-Za-z_$][\w$]*$/

function key(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name)
}

function doc(text: unknown, indent: string): string {
  return typeof text === 'string' && text !== '' ? `${indent}/** ${text.replaceAll('*/', '*\\/').split('\n').join(`\n${indent} * `)} */\n` : ''
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)]
  return unique.length === 0 ? 'never' : unique.length === 1 ? unique[0]! : unique.map((p) => (p.includes('=>') ? `(${p})` : p)).join(' | ')
}

/** The TypeScript type of a JSON Schema; `indent` is the indentation of the line the type starts on. */
export function schemaToTs(schema: Schema | undefined, indent = '', refs: RefContext = NO_REFS): string {
  if (schema === undefined || schema === true) return 'unknown'
  if (schema === false) return 'never'
  if (typeof schema.$ref === 'string') return refType(schema.$ref, indent, refs)
  const ts = (s: Schema | undefined) => schemaToTs(s, indent, refs)
  if ('const' in schema) return JSON.stringify(schema.const) ?? 'unknown'
  if (Array.isArray(schema.enum)) return union(schema.enum.map((v) => JSON.stringify(v) ?? 'unknown'))
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[k])) return union((schema[k] as Schema[]).map(ts))
  }
  if (Array.isArray(schema.allOf)) return (schema.allOf as Schema[]).map((s) => `(${ts(s)})`).join(' & ') || 'unknown'
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : schema.properties ? ['object'] : schema.items || schema.prefixItems ? ['array'] : []
  if (types.length === 0) return 'unknown'
  return union(types.map((t) => typeOf(t, schema, indent, refs)))
}

/** A shared definition is named by its exported type; a local one is inlined, unless it is already being expanded (a cycle). */
function refType(ref: string, indent: string, refs: RefContext): string {
  const found = resolveRef(ref, refs.root, refs.shared)
  if (!found) return 'unknown'
  if (found.shared !== undefined) return refs.names.get(found.shared) ?? 'unknown'
  if (refs.expanding.has(ref)) return 'unknown'
  return schemaToTs(found.target, indent, { ...refs, expanding: new Set([...refs.expanding, ref]) })
}

function typeOf(type: string, schema: Record<string, unknown>, indent: string, refs: RefContext): string {
  switch (type) {
    case 'string':
      return 'string'
    case 'number':
    case 'integer':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array': {
      if (Array.isArray(schema.prefixItems)) return `[${(schema.prefixItems as Schema[]).map((s) => schemaToTs(s, indent, refs)).join(', ')}]`
      const item = schemaToTs(schema.items as Schema | undefined, indent, refs)
      return /^[\w.]+$/.test(item) ? `${item}[]` : `Array<${item}>`
    }
    case 'object':
      return objectType(schema, indent, refs)
    default:
      return 'unknown'
  }
}

function objectType(schema: Record<string, unknown>, indent: string, refs: RefContext): string {
  const inner = `${indent}  `
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
  const lines = Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {}).map(
    ([name, s]) => `${doc(typeof s === 'object' ? s.description : undefined, inner)}${inner}${key(name)}${required.has(name) ? '' : '?'}: ${schemaToTs(s, inner, refs)}`,
  )
  const extra = schema.additionalProperties
  if (extra !== false && extra !== undefined) lines.push(`${inner}[key: string]: ${extra === true ? 'unknown' : schemaToTs(extra as Schema, inner, refs)}`)
  else if (extra === undefined && lines.length === 0) return 'Record<string, unknown>'
  return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`
}

/** The interface name for a plugin id: `greeter-plus` -> `GreeterPlusApi`. */
export function apiName(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter(Boolean)
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
  return `${/^[0-9]/.test(name) ? `Plugin${name}` : name}Api`
}

/** A TypeScript type name for a shared definition: PascalCase of its name, kept clear of the API interface and of the others. */
function typeNames(shared: Record<string, Schema>, api: string): Map<string, string> {
  const names = new Map<string, string>()
  const taken = new Set([api])
  for (const key of Object.keys(shared)) {
    const words = key.split(/[^A-Za-z0-9_$]+/).filter(Boolean)
    let name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Definition'
    if (/^[0-9]/.test(name)) name = `T${name}`
    let unique = name
    for (let n = 2; taken.has(unique); n++) unique = `${name}${n}`
    taken.add(unique)
    names.set(key, unique)
  }
  return names
}

/** The .d.ts text for one plugin's declared methods. */
export function emitDts(manifest: Pick<Manifest, 'id' | 'version' | 'contributes'>): string {
  const name = apiName(manifest.id)
  const shared = sharedDefinitions(manifest)
  const names = typeNames(shared, name)
  const refsFrom = (root: Schema): RefContext => ({ root, shared, names, expanding: new Set() })
  const definitions = Object.entries(shared).map(([key, schema]) => {
    const text = typeof schema === 'object' ? [schema.title !== key ? schema.title : undefined, schema.description].filter((t) => typeof t === 'string' && t !== '').join('\n') : ''
    return `${doc(text, '')}export type ${names.get(key)} = ${schemaToTs(schema, '', refsFrom(schema))}\n`
  })
  const methods = declaredMethods(manifest).map((m) => {
    const params = (m.params ?? []).map((p, i) => `${paramName(p, i)}${isOptional(p) ? '?' : ''}: ${schemaToTs(p, '  ', refsFrom(p))}`)
    const untyped = m.params === undefined ? '...args: unknown[]' : params.join(', ')
    const argDocs = (m.params ?? []).flatMap((p: Record<string, unknown>, i) => (typeof p.description === 'string' ? [`@param ${paramName(p, i)} ${p.description}`] : []))
    const comment = [m.description, ...argDocs].filter(Boolean).join('\n')
    return `${doc(comment, '  ')}  ${key(m.name)}(${untyped}): ${schemaToTs(m.result as Schema | undefined, '  ', refsFrom((m.result as Schema | undefined) ?? true))}`
  })
  return [
    `// Generated by \`polyplug types\` from the polyplug.json of plugin "${manifest.id}" ${manifest.version}. Do not edit: change the manifest and run it again.`,
    '',
    ...definitions,
    `/** The methods of plugin "${manifest.id}". Use: \`host.plugin('${manifest.id}').proxy<${name}>()\` (every method then returns a Promise). */`,
    `export interface ${name} {`,
    ...methods,
    '}',
    '',
  ].join('\n')
}
