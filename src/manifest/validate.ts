/**
 * Manifest validation: every problem at once, each naming the file, the JSON path, what was
 * expected and what was found.
 */
import { createRequire } from 'node:module'
import type { Ajv, ErrorObject } from 'ajv'
import { defaultTransport, kindModule, missingProvisions, placementTraits, placementsWhere, poolTransports, remoteSchemes, remoteTransports, transportsFor, transportsProviding } from '../registry/index.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { closest } from '../rpc/suggest.js'
import { manifestChecker } from './checker.js'
import { methodProblems } from './methods.js'
import { ACTIVATION_PATTERN, DEPENDENCY_VERSION_PATTERN, PLUGIN_ID_PATTERN, remoteUrlPattern, VERSION_PATTERN } from './patterns.js'
import type { Manifest, ManifestInput } from './schema.js'

// Ajv and semver load on first use: most manifests declare no settings and no version ranges.
const require = createRequire(import.meta.url)

export interface ManifestProblem {
  /** JSON pointer into the manifest, e.g. `/placement`; `` for the whole document. */
  path: string
  expected: string
  found: string
}

export class ManifestError extends PolyplugError {
  constructor(
    readonly file: string,
    readonly problems: ManifestProblem[],
    plugin?: string,
  ) {
    super(ErrorCodes.MANIFEST_INVALID, `${file}: invalid manifest\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, {
      plugin,
      data: { file, problems },
    })
  }
}

export function formatProblem(problem: ManifestProblem): string {
  return `${problem.path || '(root)'}: expected ${problem.expected}, found ${problem.found}`
}

/** Plugin ids polyplug keeps for itself: its own users and clients (the embedded MQTT broker's `polyplug-host`) use this prefix. */
export const RESERVED_ID_PREFIX = 'polyplug-'

export function isReservedId(id: string): boolean {
  return id.startsWith(RESERVED_ID_PREFIX)
}

/** Validates a parsed manifest, applies defaults, and throws a ManifestError listing every problem. */
export function validateManifest(value: unknown, file: string): Manifest {
  const id = typeof (value as { id?: unknown } | null)?.id === 'string' ? (value as { id: string }).id : undefined
  const check = manifestChecker()
  if (!check(value)) throw new ManifestError(file, collapse(check.errors ?? [], value), id)
  const kind = kindModule(value.kind)
  const placement = value.placement ?? kind?.defaultPlacement ?? 'process'
  const byScheme = placementTraits(placement).dialed && value.remote ? remoteTransports(schemeOf(value.remote.url)) : undefined
  const transport = value.transport ?? byScheme?.[0] ?? defaultTransport(placement) ?? ''
  const problems: ManifestProblem[] = []
  if (isReservedId(value.id)) {
    problems.push({
      path: '/id',
      expected: `an id not starting with "${RESERVED_ID_PREFIX}" (reserved for polyplug's own parties, e.g. the MQTT broker's host user "polyplug-host"): rename the plugin`,
      found: JSON.stringify(value.id),
    })
  }
  if (byScheme && !byScheme.includes(transport)) {
    problems.push({ path: '/transport', expected: `one of ${list(byScheme)} for remote url ${JSON.stringify(value.remote?.url)}`, found: JSON.stringify(transport) })
  }
  // A pool's replicas are loaded by `polyplug serve` in Node: any kind with a loader can be one.
  const pooled = value.scale && kind?.load ? placementsWhere((t) => t.dialed) : []
  const placements = [...new Set([...(kind?.placements ?? []), ...pooled])]
  if (!placements.includes(placement)) {
    problems.push({ path: '/placement', expected: `one of ${list(placements)} for kind "${value.kind}"`, found: JSON.stringify(placement) })
  } else if (!transportsFor(placement).includes(transport)) {
    problems.push({ path: '/transport', expected: `one of ${list(transportsFor(placement))} for placement "${placement}"`, found: JSON.stringify(transport) })
  } else {
    const missing = missingProvisions({ ...value, placement, transport })
    if (missing.length > 0) {
      const able = transportsProviding(placement, missing)
      problems.push({
        path: '/transport',
        expected: `${able.length ? `one of ${list(able)}` : 'no transport: none'} for kind "${value.kind}" in placement "${placement}" (it needs ${missing.join(', ')}, which transport "${transport}" does not provide there)`,
        found: JSON.stringify(transport),
      })
    }
  }
  if (value.scale) {
    const pooled = poolTransports()
    if (!placementTraits(placement).dialed) problems.push({ path: '/scale', expected: `placement ${list(placementsWhere((t) => t.dialed))} (a pool of replicas is reached through its broker)`, found: `placement ${JSON.stringify(placement)}` })
    else if (!pooled.includes(transport)) problems.push({ path: '/scale', expected: `a transport that reaches replica pools (${pooled.length ? list(pooled) : 'none registered'})`, found: `transport ${JSON.stringify(transport)}` })
  }
  problems.push(...semanticProblems(value))
  if (problems.length > 0) throw new ManifestError(file, problems, id)
  return { ...value, placement, transport }
}

function schemeOf(url: string): string {
  return url.slice(0, Math.max(0, url.indexOf('://')))
}

/** What JSON Schema cannot say: semver ranges parse, ids are unique, configuration schemas compile, method signatures' $refs resolve. */
function semanticProblems(m: ManifestInput): ManifestProblem[] {
  const problems: ManifestProblem[] = []
  const range = (path: string, value: string) => {
    if (!validRange(value)) problems.push({ path, expected: 'a semver range, e.g. "^1.2.0"', found: JSON.stringify(value) })
  }
  if (m.engines?.polyplug !== undefined) range('/engines/polyplug', m.engines.polyplug)
  for (const [dep, value] of Object.entries(m.dependencies ?? {})) {
    range(`/dependencies/${pointer(dep)}`, value)
    if (dep === m.id) problems.push({ path: `/dependencies/${pointer(dep)}`, expected: 'another plugin', found: 'the plugin itself' })
  }
  const seen = new Set<string>()
  for (const [i, command] of (m.contributes?.commands ?? []).entries()) {
    if (seen.has(command.id)) problems.push({ path: `/contributes/commands/${i}/id`, expected: 'a command id not used above', found: JSON.stringify(command.id) })
    seen.add(command.id)
  }
  // Checked against the meta-schema only (cheap); defaults are checked against their schema when
  // settings are first resolved, so discovering many plugins compiles nothing.
  for (const [key, schema] of Object.entries(m.contributes?.configuration ?? {})) {
    const ajv = settingsAjv()
    if (!ajv.validateSchema(schema)) {
      problems.push({ path: `/contributes/configuration/${pointer(key)}`, expected: 'a valid JSON Schema', found: ajv.errorsText(ajv.errors) })
    }
  }
  problems.push(...methodProblems(m))
  return problems
}

const ranges = new Map<string, boolean>()
function validRange(value: string): boolean {
  let ok = ranges.get(value)
  if (ok === undefined) ranges.set(value, (ok = (require('semver') as typeof import('semver')).validRange(value) !== null))
  return ok
}

let settings: Ajv | undefined
function settingsAjv(): Ajv {
  settings ??= new (require('ajv') as typeof import('ajv')).Ajv({ allErrors: true, strict: false })
  return settings
}

function pointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function list(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ')
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function at(root: unknown, pointer: string): unknown {
  let node = root
  for (const part of pointer.split('/').slice(1)) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return node
}

/** What each pattern in the schema asks for, in words an author can act on. */
const PATTERN_WORDS: Record<string, string> = {
  [PLUGIN_ID_PATTERN]: 'an id of lower-case letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. "my-plugin")',
  [VERSION_PATTERN]: 'a semver version such as "1.0.0" or "1.2.3-beta.1"',
  [DEPENDENCY_VERSION_PATTERN]: 'a semver version such as "1.0.0"',
  [ACTIVATION_PATTERN]: 'an activation event: "onStartup", "onDependent", or "onCommand:ID", "onMethod:NAME", "onHook:NAME", "onEvent:TOPIC"',
}

/** Turns Ajv's errors into one problem per path (a union of literals yields one "one of" line). */
function collapse(errors: ErrorObject[], root: unknown): ManifestProblem[] {
  const byPath = new Map<string, ManifestProblem>()
  for (const error of errors) {
    const found = describe(at(root, error.instancePath))
    let path = error.instancePath
    let expected: string
    switch (error.keyword) {
      case 'required':
        path = `${path}/${(error.params as { missingProperty: string }).missingProperty}`
        expected = `a value (the field is required)`
        byPath.set(path, { path, expected, found: 'nothing' })
        continue
      case 'additionalProperties': {
        const extra = (error.params as { additionalProperty: string }).additionalProperty
        const guess = closest(extra, Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {}))
        const expected = guess ? `no such field (unknown property; did you mean "${guess}"?)` : 'no such field (unknown property)'
        byPath.set(`${path}/${extra}`, { path: `${path}/${extra}`, expected, found: describe(at(root, `${path}/${extra}`)) })
        continue
      }
      case 'const': {
        const previous = byPath.get(path)
        const allowed = JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)
        expected = previous?.expected.startsWith('one of ') ? `${previous.expected}, ${allowed}` : `one of ${allowed}`
        break
      }
      case 'anyOf':
        continue // the const errors above already list the choices
      case 'pattern': {
        const pattern = (error.params as { pattern: string }).pattern
        expected = PATTERN_WORDS[pattern] ?? remoteUrlWords(pattern) ?? `a string matching ${pattern}`
        break
      }
      default:
        expected = error.message?.replace(/^must (be )?/, '') ?? error.keyword
    }
    byPath.set(path, { path, expected, found })
  }
  return [...byPath.values()]
}

/** The remote url pattern in words, naming the schemes the registered transports dial. */
function remoteUrlWords(pattern: string): string | undefined {
  const schemes = remoteSchemes()
  if (pattern !== remoteUrlPattern(schemes)) return undefined
  const urls = schemes.map((s) => `${s}://`)
  return `a URL starting with ${urls.slice(0, -1).join(', ')} or ${urls.at(-1)}`
}
