/**
 * Host API scopes, checked at the RPC boundary for every kind and placement: a plugin's
 * `host/...` call runs only if one of its granted scopes covers the scope the method needs.
 * A granted scope ending in `*` covers every scope with that prefix (`events.publish:*`, `*`).
 */
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

/** The scopes a plugin holds: what its manifest asks for, as narrowed (or widened) by the application. */
export class Grants {
  readonly #exact = new Set<string>()
  readonly #prefixes: string[] = []

  constructor(
    readonly plugin: string,
    scopes: readonly string[],
  ) {
    for (const scope of scopes) {
      if (scope.endsWith('*')) this.#prefixes.push(scope.slice(0, -1))
      else this.#exact.add(scope)
    }
  }

  allows(scope: string): boolean {
    if (this.#exact.has(scope)) return true
    // `storage` also covers `storage:<anything>`, and `events.publish:*` covers every topic.
    const base = scope.split(':')[0] ?? scope
    if (base !== scope && this.#exact.has(base)) return true
    return this.#prefixes.some((p) => scope.startsWith(p))
  }

  /** Throws PERMISSION_DENIED naming the plugin, the method and the missing grant. */
  require(scope: string, method: string): void {
    if (!this.allows(scope)) {
      const fix = `add "${scope}" to "permissions": { "host": [...] } in the plugin's polyplug.json (and the application must grant it)`
      throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `plugin "${this.plugin}" may not call ${method}: it lacks the "${scope}" permission; ${fix}`, {
        plugin: this.plugin,
        method,
        data: { scope },
      })
    }
  }
}

/** Decides a plugin's effective scopes from its manifest's `permissions.host`. Default: as declared. */
export type GrantPolicy = (plugin: string, requested: readonly string[]) => readonly string[]
