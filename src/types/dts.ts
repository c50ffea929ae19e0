/**
 * `polyplug types`: a plugin's declared methods (contributes.methods with JSON Schemas, see
 * docs/manifest.md "Typed methods") as a TypeScript interface. The interface gives each method its
 * plain result type; the application uses it as `host.plugin(id).proxy<Api>()`, whose Remote<Api>
 * makes every method async. A JS/TS plugin may implement the same interface.
 *
 * JSON Schema to TypeScript covers the keywords a signature needs: type (and type arrays), const,
 * enum, anyOf/oneOf (a union), allOf (an intersection), properties/required/additionalProperties,
 * items/prefixItems, nullable via type ["x", "null"], title and description (doc comments).
 * Anything else ($ref, patternProperties, if/then) becomes `unknown`: accepted, never wrong.
 */
import { declaredMethods, paramName } from '../manifest/methods.js'
import type { Manifest } from '../manifest/schema.js'

type Schema = Record<string, unknown> | boolean

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
export function schemaToTs(schema: Schema | undefined, indent = ''): string {
  if (schema === undefined || schema === true) return 'unknown'
  if (schema === false) return 'never'
  if ('const' in schema) return JSON.stringify(schema.const) ?? 'unknown'
  if (Array.isArray(schema.enum)) return union(schema.enum.map((v) => JSON.stringify(v) ?? 'unknown'))
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[k])) return union((schema[k] as Schema[]).map((s) => schemaToTs(s, indent)))
  }
  if (Array.isArray(schema.allOf)) return (schema.allOf as Schema[]).map((s) => `(${schemaToTs(s, indent)})`).join(' & ') || 'unknown'
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : schema.properties ? ['object'] : schema.items || schema.prefixItems ? ['array'] : []
  if (types.length === 0) return 'unknown'
  return union(types.map((t) => typeOf(t, schema, indent)))
}

function typeOf(type: string, schema: Record<string, unknown>, indent: string): string {
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
      if (Array.isArray(schema.prefixItems)) return `[${(schema.prefixItems as Schema[]).map((s) => schemaToTs(s, indent)).join(', ')}]`
      const item = schemaToTs(schema.items as Schema | undefined, indent)
      return /^[\w.]+$/.test(item) ? `${item}[]` : `Array<${item}>`
    }
    case 'object':
      return objectType(schema, indent)
    default:
      return 'unknown'
  }
}

function objectType(schema: Record<string, unknown>, indent: string): string {
  const inner = `${indent}  `
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
  const lines = Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {}).map(
    ([name, s]) => `${doc(typeof s === 'object' ? s.description : undefined, inner)}${inner}${key(name)}${required.has(name) ? '' : '?'}: ${schemaToTs(s, inner)}`,
  )
  const extra = schema.additionalProperties
  if (extra !== false && extra !== undefined) lines.push(`${inner}[key: string]: ${extra === true ? 'unknown' : schemaToTs(extra as Schema, inner)}`)
  else if (extra === undefined && lines.length === 0) return 'Record<string, unknown>'
  return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`
}

/** The interface name for a plugin id: `greeter-plus` -> `GreeterPlusApi`. */
export function apiName(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter(Boolean)
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
  return `${/^[0-9]/.test(name) ? `Plugin${name}` : name}Api`
}

/** The .d.ts text for one plugin's declared methods. */
export function emitDts(manifest: Pick<Manifest, 'id' | 'version' | 'contributes'>): string {
  const name = apiName(manifest.id)
  const methods = declaredMethods(manifest).map((m) => {
    const params = (m.params ?? []).map((p, i) => `${paramName(p, i)}: ${schemaToTs(p, '  ')}`)
    const untyped = m.params === undefined ? '...args: unknown[]' : params.join(', ')
    const argDocs = (m.params ?? []).flatMap((p: Record<string, unknown>, i) => (typeof p.description === 'string' ? [`@param ${paramName(p, i)} ${p.description}`] : []))
    const comment = [m.description, ...argDocs].filter(Boolean).join('\n')
    return `${doc(comment, '  ')}  ${key(m.name)}(${untyped}): ${schemaToTs(m.result as Schema | undefined, '  ')}`
  })
  return [
    `// Generated by \`polyplug types\` from the polyplug.json of plugin "${manifest.id}" ${manifest.version}. Do not edit: change the manifest and run it again.`,
    '',
    `/** The methods of plugin "${manifest.id}". Use: \`host.plugin('${manifest.id}').proxy<${name}>()\` (every method then returns a Promise). */`,
    `export interface ${name} {`,
    ...methods,
    '}',
    '',
  ].join('\n')
}
