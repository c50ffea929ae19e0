/**
 * The compiled manifest schema. Its source is the published schema/polyplug.schema.json (a test
 * keeps it equal to the TypeBox definitions in ./schema.ts) with the registry's kinds, transports
 * and remote url schemes put in, so validating a manifest loads neither TypeBox nor, for the
 * registry as built, compiles anything: `npm run build` writes that validator as Ajv standalone
 * code (manifest-validator.cjs, scripts/manifest-validator.mjs), keyed by its schema.
 * A registry the application extended, or a stale file, compiles the schema with Ajv instead.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ValidateFunction } from 'ajv'
import { kindNames, registryVersion, remoteSchemes, transportNames } from '../registry/index.js'
import { remoteUrlPattern } from './patterns.js'
import { loadPrebuilt } from './prebuilt-validator.js'
import type { ManifestInput } from './schema.js'

const require = createRequire(import.meta.url)

/** The manifest schema as published (polyplug's own kinds and transports). */
export const publishedSchemaFile = new URL('../../../schema/polyplug.schema.json', import.meta.url)
/** The standalone validator `npm run build` writes for the registry as built. */
export const prebuiltValidatorFile = new URL('./manifest-validator.cjs', import.meta.url)

/** Ajv's options for manifests. verbose: errors carry their parent schema, whose property names feed "did you mean". */
export const MANIFEST_AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const

type JsonObject = Record<string, unknown>
interface SchemaNode extends JsonObject {
  properties: Record<string, SchemaNode>
}

export interface RegistryNames {
  kinds: readonly string[]
  transports: readonly string[]
  schemes: readonly string[]
}

export function registryNames(): RegistryNames {
  return { kinds: kindNames(), transports: transportNames(), schemes: remoteSchemes() }
}

/** The published schema with the `kind` and `transport` choices and the remote url schemes of `names`. */
export function manifestSchemaFor(published: JsonObject, names: RegistryNames = registryNames()): JsonObject {
  const { $schema: _, ...schema } = structuredClone(published) as SchemaNode
  const choices = (values: readonly string[]) => values.map((value) => ({ const: value, type: 'string' }))
  schema.properties.kind!.anyOf = choices(names.kinds)
  schema.properties.transport!.anyOf = choices(names.transports)
  schema.properties.remote!.properties.url!.pattern = remoteUrlPattern(names.schemes)
  return schema
}

/**
 * What a prebuilt validator is keyed by: the schema it checks, as JSON text, compared whole. (A
 * digest of it would load `node:crypto` — 17 of Node's modules — into every host's start for one
 * comparison of 13 KB.)
 */
export function schemaKey(schema: JsonObject): string {
  return JSON.stringify(schema)
}

let published: JsonObject | undefined
export function publishedSchema(): JsonObject {
  published ??= JSON.parse(readFileSync(publishedSchemaFile, 'utf8')) as JsonObject
  return published
}

let compiled: { version: number; check: ValidateFunction<ManifestInput> } | undefined

/** The schema validator for the registry as it is now, compiled again only after a registration. */
export function manifestChecker(): ValidateFunction<ManifestInput> {
  const version = registryVersion()
  if (compiled?.version !== version) compiled = { version, check: build(manifestSchemaFor(publishedSchema())) }
  return compiled.check
}

function build(schema: JsonObject): ValidateFunction<ManifestInput> {
  if (existsSync(prebuiltValidatorFile)) {
    const prebuilt = loadPrebuilt(prebuiltValidatorFile).validate
    if (prebuilt.schemaKey === schemaKey(schema)) return prebuilt
  }
  const { Ajv } = require('ajv') as typeof import('ajv')
  return new Ajv(MANIFEST_AJV_OPTIONS).compile<ManifestInput>(schema)
}
