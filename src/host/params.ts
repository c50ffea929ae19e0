/**
 * Argument checks for plugins whose manifest says `validateParams: true`: each call's positional
 * arguments are checked against the `params` JSON Schemas of `contributes.methods` before the
 * plugin is reached, and a mismatch is refused with INVALID_PARAMS naming the argument, the problem
 * and the fix. Methods declared without `params` (or not declared) are not checked.
 */
import { createRequire } from 'node:module'
import type { Ajv, ValidateFunction } from 'ajv'
import { declaredMethods, paramName, requiredCount, sharedDefinitions } from '../manifest/methods.js'
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

let ajv: Ajv | undefined
/** Ajv loads on first use: only plugins with `validateParams` need it. */
function paramsAjv(): Ajv {
  ajv ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv({ allErrors: true, strict: false })
  return ajv
}

interface Checker {
  names: string[]
  validators: ValidateFunction[]
  /** Arguments before the first optional one. */
  required: number
}

/** A param's schema as Ajv compiles it: `#/$defs/NAME` reaches the shared definitions (contributes.$defs) unless the schema defines NAME itself. */
function withShared(schema: Record<string, unknown>, shared: Record<string, unknown>): Record<string, unknown> {
  if (Object.keys(shared).length === 0) return schema
  return { ...schema, $defs: { ...shared, ...(schema.$defs as Record<string, unknown> | undefined) } }
}

const compiled = new WeakMap<Manifest, Map<string, Checker>>()

function checkers(manifest: Manifest): Map<string, Checker> {
  let map = compiled.get(manifest)
  if (!map) {
    map = new Map()
    const shared = sharedDefinitions(manifest)
    for (const m of declaredMethods(manifest)) {
      if (!m.params) continue
      try {
        map.set(m.name, { names: m.params.map((p, i) => paramName(p, i)), validators: m.params.map((p) => paramsAjv().compile(withShared(p, shared))), required: requiredCount(m.params) })
      } catch (error) {
        throw new PolyplugError(ErrorCodes.MANIFEST_INVALID, `the params schema of method "${m.name}" in contributes.methods is not a valid JSON Schema: ${(error as Error).message}`, { plugin: manifest.id })
      }
    }
    compiled.set(manifest, map)
  }
  return map
}

/** `method(a, b?)`: the signature an INVALID_PARAMS message shows. */
function signature(method: string, checker: { names: string[]; required: number }): string {
  return `${method}(${checker.names.map((n, i) => (i < checker.required ? n : `${n}?`)).join(', ')})`
}

/** Throws INVALID_PARAMS when the manifest asks for checks and `args` do not match `method`'s declared params. */
export function checkParams(manifest: Manifest, method: string, args: readonly unknown[]): void {
  if (!manifest.validateParams) return
  const checker = checkers(manifest).get(method)
  if (!checker) return
  const total = checker.validators.length
  // The messages (and the signature they show) are built only for a call that fails.
  const where = { plugin: manifest.id, method }
  // A trailing undefined is an argument left out (a JS caller's `f(a, undefined)`).
  let given = args.length
  while (given > 0 && args[given - 1] === undefined) given--
  if (given < checker.required || given > total) {
    const takes = checker.required === total ? `${total}` : `${checker.required} to ${total}`
    throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `${method} takes ${takes} argument${total === 1 ? '' : 's'}, ${signature(method, checker)}; it was given ${given}`, where)
  }
  for (let i = 0; i < given; i++) {
    const validate = checker.validators[i]!
    if (validate(args[i])) continue
    const problems = (validate.errors ?? []).map((e) => `${checker.names[i]}${e.instancePath.replaceAll('/', '.')} ${e.message ?? 'is invalid'}`).join('; ')
    throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `argument ${i + 1} of ${signature(method, checker)}, "${checker.names[i]}": ${problems} (the schema is in contributes.methods of the plugin's polyplug.json)`, {
      ...where,
      data: { argument: i, name: checker.names[i], errors: validate.errors },
    })
  }
}
