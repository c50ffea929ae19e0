/**
 * The one place to look up a transport or a kind. Built-ins are registered by `./index.ts` (a
 * worker or process carrier registers only its plugin's, by `./builtins.ts`); an application
 * registers its own with `registerTransport` / `registerKind` before creating the host, and
 * manifests naming them validate from then on.
 */
import type { Manifest, PlacementName } from '../manifest/schema.js'
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { placementTraits } from './placements.js'
import type { KindModule, KindNeed, Provision, TransportModule, TransportNeed } from './types.js'

const NAME = /^[a-z][a-z0-9-]*$/

/** The tables: one per thread, shared by every copy of this module in it (below). */
interface Tables {
  readonly transports: Map<string, TransportModule>
  readonly kinds: Map<string, KindModule>
  version: number
}

/**
 * A worker or process carrier runs from a bundled build with its own copy of this module, while a
 * transport or kind the application registered is imported there from the package and registers
 * through `polyplug/registry`: both copies must see one registry, so the tables live on the thread's
 * global object, under a key every copy derives alike.
 */
const shared = globalThis as { [key: symbol]: Tables | undefined }
const tablesKey = Symbol.for('polyplug.registry')
const tables: Tables = (shared[tablesKey] ??= { transports: new Map(), kinds: new Map(), version: 0 })
const transportModules = tables.transports
const kindModules = tables.kinds

function add<T extends { name: string }>(table: Map<string, T>, what: string, module: T): void {
  if (!NAME.test(module.name)) throw new PolyplugError(RpcErrorCodes.INVALID_PARAMS, `${what} name ${JSON.stringify(module.name)} must match ${NAME}`)
  const existing = table.get(module.name)
  if (existing === module) return
  if (existing) throw new PolyplugError(RpcErrorCodes.INVALID_PARAMS, `a ${what} named "${module.name}" is already registered: choose another name`)
  table.set(module.name, module)
  tables.version++
}

/** Adds a transport. Throws (INVALID_PARAMS) when the name is taken by another module or malformed. */
export function registerTransport(module: TransportModule): void {
  if (!module.inline && !module.worker && !module.sidecar && !module.remote) {
    throw new PolyplugError(RpcErrorCodes.INVALID_PARAMS, `transport "${module.name}" has no side (inline, worker, sidecar or remote): it could serve no placement`)
  }
  add(transportModules, 'transport', module)
}

/** Adds a kind. Throws (INVALID_PARAMS) when the name is taken by another module or malformed. */
export function registerKind(module: KindModule): void {
  if (!module.placements.includes(module.defaultPlacement)) {
    throw new PolyplugError(RpcErrorCodes.INVALID_PARAMS, `kind "${module.name}": its default placement "${module.defaultPlacement}" is not among its placements`)
  }
  add(kindModules, 'kind', module)
}

/** Changes whenever a module is registered (the manifest validator rebuilds its schema then). */
export function registryVersion(): number {
  return tables.version
}

export function transportModule(name: string): TransportModule | undefined {
  return transportModules.get(name)
}

export function kindModule(name: string): KindModule | undefined {
  return kindModules.get(name)
}

export function transportNames(): string[] {
  return [...transportModules.keys()]
}

export function kindNames(): string[] {
  return [...kindModules.keys()]
}

/** The side of `module` that serves `placement`, if it has one. */
export function sideFor(module: TransportModule, placement: PlacementName): { provides?: readonly Provision[]; needs?: readonly TransportNeed[] } | undefined {
  switch (placement) {
    case 'inline':
      return module.inline
    case 'worker':
      return module.worker
    case 'process':
      return module.sidecar
    case 'remote':
      return module.remote
  }
}

/** The transports that can serve `placement`, in registration order. */
export function transportsFor(placement: PlacementName): string[] {
  return [...transportModules.values()].filter((t) => sideFor(t, placement)).map((t) => t.name)
}

/** The transport a placement uses when the manifest names none. */
export function defaultTransport(placement: PlacementName): string | undefined {
  return [...transportModules.values()].find((t) => t.defaultFor?.includes(placement))?.name ?? transportsFor(placement)[0]
}

/** Every URL scheme a remote plugin may have. */
export function remoteSchemes(): string[] {
  const schemes = new Set<string>()
  for (const t of transportModules.values()) for (const s of [...(t.remote?.schemes ?? []), ...(t.remote?.alsoSchemes ?? [])]) schemes.add(s)
  return [...schemes]
}

/** The transports whose remote side reaches a pool of replicas (manifest `scale`). */
export function poolTransports(): string[] {
  return [...transportModules.values()].filter((t) => t.remote?.pool).map((t) => t.name)
}

/** Which transports reach a remote url of `scheme`, the scheme's own first (the default). */
export function remoteTransports(scheme: string): string[] {
  const all = [...transportModules.values()]
  return [
    ...all.filter((t) => t.remote?.schemes.includes(scheme)),
    ...all.filter((t) => t.remote?.alsoSchemes?.includes(scheme)),
  ].map((t) => t.name)
}

/** What a plugin's kind needs, for its manifest (defaults applied) and, when known, its folder. */
export function kindNeeds(manifest: Manifest, dir?: string): readonly KindNeed[] {
  return kindModule(manifest.kind)?.needs?.(manifest, dir, placementTraits(manifest.placement)) ?? []
}

/** What the transport side a plugin uses needs. */
export function transportNeeds(manifest: Manifest): readonly TransportNeed[] {
  const module = transportModule(manifest.transport)
  return (module && sideFor(module, manifest.placement)?.needs) ?? []
}

/** Needs of the kind that a transport side must provide, and which of them `transport` lacks in `placement`. */
export function missingProvisions(manifest: Manifest): Provision[] {
  const module = transportModule(manifest.transport)
  const side = module && sideFor(module, manifest.placement)
  return kindNeeds(manifest).filter((need): need is Provision => need === 'sync-bridge' && !side?.provides?.includes(need))
}

/** The transports of `placement` that provide every one of `provisions`. */
export function transportsProviding(placement: PlacementName, provisions: readonly Provision[]): string[] {
  return [...transportModules.values()].filter((t) => {
    const side = sideFor(t, placement)
    return side && provisions.every((p) => side.provides?.includes(p))
  }).map((t) => t.name)
}

/** Modules a worker or process carrier must import so that this plugin's transport and kind exist there. */
export function modulesToImport(manifest: Manifest): string[] {
  return [transportModule(manifest.transport)?.url, kindModule(manifest.kind)?.url].filter((u): u is string => u !== undefined)
}

/** Imports `urls` (from modulesToImport), registering the modules they hold. */
export async function importModules(urls: readonly string[]): Promise<void> {
  for (const url of urls) await import(url)
}
