/**
 * Dependency resolution, before any plugin code runs: duplicate ids, `engines.polyplug`,
 * missing and incompatible dependencies, cycles, and dependants of anything broken. Produces a
 * topological order (dependencies first) and, for each broken plugin, an error naming the
 * plugins involved. Pure: manifests in, verdicts out.
 */
import { createRequire } from 'node:module'
import type { LoadedManifest } from '../manifest/load.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

export interface Resolution {
  /** Every kept plugin id, dependencies before dependants (broken ones included, in place). */
  order: string[]
  /** Resolved dependency plugin ids per plugin (a provided-API dependency becomes its provider). */
  dependencies: Map<string, string[]>
  /** Why each broken plugin cannot start. */
  unavailable: Map<string, PolyplugError>
  /** Manifests dropped because an earlier one had the same id. */
  duplicates: { loaded: LoadedManifest; error: PolyplugError }[]
  /** The kept manifests, by id. */
  plugins: Map<string, LoadedManifest>
}

type Semver = typeof import('semver')
let semverModule: Semver | undefined
/** semver loads on first use: plugins without dependencies or engines ranges never need it. */
function semver(): Semver {
  semverModule ??= createRequire(import.meta.url)('semver') as Semver
  return semverModule
}

// Manifests repeat a few ranges many times; parsing each once keeps resolving a thousand plugins cheap.
const verdicts = new Map<string, boolean>()
function range(version: string, wanted: string): boolean {
  const key = `${version} ${wanted}`
  let ok = verdicts.get(key)
  if (ok === undefined) verdicts.set(key, (ok = semver().satisfies(version, wanted, { includePrerelease: true })))
  return ok
}

/** Finds what `key` names: a plugin id, else the provider of an API with that name (highest version in range wins). */
function provider(key: string, wanted: string, plugins: Map<string, LoadedManifest>): { id?: string; found?: string } {
  const direct = plugins.get(key)
  if (direct) return range(direct.manifest.version, wanted) ? { id: key } : { found: `${key}@${direct.manifest.version}` }
  let best: { id: string; version: string } | undefined
  let found: string | undefined
  for (const [id, loaded] of plugins) {
    const version = loaded.manifest.provides?.[key]
    if (version === undefined) continue
    if (range(version, wanted) && (!best || semver().gt(version, best.version))) best = { id, version }
    else found ??= `${key}@${version} (provided by ${id})`
  }
  return best ? { id: best.id } : { found }
}

export function resolvePlugins(found: readonly LoadedManifest[], hostVersion: string): Resolution {
  const plugins = new Map<string, LoadedManifest>()
  const duplicates: Resolution['duplicates'] = []
  for (const loaded of found) {
    const id = loaded.manifest.id
    const kept = plugins.get(id)
    if (kept) {
      const message = `duplicate plugin id "${id}": ${loaded.dir} is ignored, ${kept.dir} is kept`
      duplicates.push({ loaded, error: new PolyplugError(ErrorCodes.DUPLICATE_PLUGIN_ID, message, { plugin: id, data: { dirs: [kept.dir, loaded.dir] } }) })
      continue
    }
    plugins.set(id, loaded)
  }

  const unavailable = new Map<string, PolyplugError>()
  const dependencies = new Map<string, string[]>()
  for (const [id, { manifest }] of plugins) {
    const engines = manifest.engines?.polyplug
    if (engines !== undefined && !range(hostVersion, engines)) {
      unavailable.set(id, new PolyplugError(ErrorCodes.ENGINE_INCOMPATIBLE, `plugin "${id}" needs polyplug ${engines}; this host is ${hostVersion}`, { plugin: id, data: { wanted: engines, host: hostVersion } }))
    }
    const deps: string[] = []
    for (const [key, wanted] of Object.entries(manifest.dependencies ?? {})) {
      const hit = provider(key, wanted, plugins)
      if (hit.id !== undefined) {
        deps.push(hit.id)
      } else if (!unavailable.has(id)) {
        unavailable.set(
          id,
          hit.found === undefined
            ? new PolyplugError(ErrorCodes.DEPENDENCY_MISSING, `plugin "${id}" depends on "${key}" ${wanted}, which is not installed`, { plugin: id, data: { dependency: key, wanted } })
            : new PolyplugError(ErrorCodes.DEPENDENCY_INCOMPATIBLE, `plugin "${id}" depends on "${key}" ${wanted}, but found ${hit.found}`, { plugin: id, data: { dependency: key, wanted, found: hit.found } }),
        )
      }
    }
    dependencies.set(id, deps)
  }

  const order: string[] = []
  for (const component of stronglyConnected([...plugins.keys()], (id) => dependencies.get(id) ?? [])) {
    if (component.length > 1) {
      const cycle = [...component].sort()
      for (const id of component) {
        unavailable.set(id, new PolyplugError(ErrorCodes.DEPENDENCY_CYCLE, `plugins ${cycle.map((c) => `"${c}"`).join(', ')} depend on each other in a cycle`, { plugin: id, data: { cycle } }))
      }
    }
    order.push(...component)
  }
  // Components come dependencies-first, so one pass marks every dependant of something broken.
  for (const id of order) {
    if (unavailable.has(id)) continue
    const broken = (dependencies.get(id) ?? []).find((dep) => unavailable.has(dep))
    if (broken !== undefined) {
      const cause = unavailable.get(broken)
      unavailable.set(id, new PolyplugError(ErrorCodes.DEPENDENCY_UNAVAILABLE, `plugin "${id}" depends on "${broken}", which is unavailable (${cause?.code})`, { plugin: id, cause, data: { dependency: broken, code: cause?.code } }))
    }
  }
  return { order, dependencies, unavailable, duplicates, plugins }
}

/** Tarjan's algorithm: components in reverse topological order of `edges` (a node after everything it reaches). */
function stronglyConnected(nodes: string[], edges: (node: string) => string[]): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const out: string[][] = []
  let next = 0
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      out.push(component)
    }
  }
  for (const node of nodes) if (!index.has(node)) visit(node)
  return out
}
