/**
 * The plugins the host knows, in resolution order (dependencies first), and the folders it could
 * not load. What discovery found and resolution decided; it starts and stops nothing.
 */
import type { PolyplugError } from '../rpc/errors.js'
import type { PluginEntry } from './entry.js'
import { pluginNotFound } from './not-found.js'
import type { PluginRuntime } from './plugin.js'

export interface InvalidPlugin {
  dir: string
  /** MANIFEST_INVALID, or DUPLICATE_PLUGIN_ID for a second plugin with a taken id. */
  error: PolyplugError
}

export class PluginSet {
  readonly #entries = new Map<string, PluginEntry>()
  #order: string[] = []
  #rank = new Map<string, number>()
  #invalid: InvalidPlugin[] = []
  /** The entry asked for last; forgotten whenever an entry is added or removed. */
  #lastId: string | undefined
  #last: PluginEntry | undefined

  has(id: string): boolean {
    return this.#entries.has(id)
  }

  get(id: string): PluginEntry | undefined {
    // Calls in a row to one plugin skip the map (it holds every plugin found).
    if (id === this.#lastId) return this.#last
    const entry = this.#entries.get(id)
    this.#lastId = id
    this.#last = entry
    return entry
  }

  /** The entry of `id`; PLUGIN_NOT_FOUND (naming an invalid manifest or a likely typo) when there is none. */
  entry(id: string): PluginEntry {
    const entry = this.#entries.get(id)
    if (!entry) throw pluginNotFound(id, this.ids(), this.#invalid)
    return entry
  }

  runtime(id: string): PluginRuntime {
    return this.entry(id).runtime
  }

  ids(): string[] {
    return [...this.#entries.keys()]
  }

  add(entry: PluginEntry): void {
    this.#lastId = undefined
    this.#entries.set(entry.id, entry)
  }

  /** Forgets `id` (the caller disposes the entry). */
  remove(id: string): PluginEntry | undefined {
    const entry = this.#entries.get(id)
    this.#lastId = undefined
    this.#entries.delete(id)
    return entry
  }

  /** Every plugin id, dependencies before dependants. */
  get order(): readonly string[] {
    return this.#order
  }

  /** The runtimes in resolution order. */
  runtimes(): PluginRuntime[] {
    return this.#order.map((id) => this.runtime(id))
  }

  /** Position in resolution order (dependencies sort first); Infinity for an unknown id. */
  rank(id: string): number {
    return this.#rank.get(id) ?? Infinity
  }

  invalid(): readonly InvalidPlugin[] {
    return this.#invalid
  }

  /** Takes a fresh resolution: the order over every kept plugin and the folders that were not loaded. */
  setResolution(order: string[], invalid: InvalidPlugin[]): void {
    this.#order = order
    this.#rank = new Map(order.map((id, i) => [id, i]))
    this.#invalid = invalid
  }

  /** The plugins that depend on `id`, directly or not, dependencies before dependants. */
  dependantsOf(id: string): string[] {
    const affected = new Set([id])
    for (const other of this.#order.slice((this.#rank.get(id) ?? 0) + 1)) {
      if (this.#entries.get(other)?.runtime.dependencies.some((d) => affected.has(d))) affected.add(other)
    }
    affected.delete(id)
    return [...affected]
  }

  /** The first usable plugin, in resolution order, that provides API `name`. */
  provider(name: string): string | undefined {
    return this.#order.find((id) => {
      const runtime = this.#entries.get(id)?.runtime
      return runtime?.manifest.provides?.[name] !== undefined && runtime.usable
    })
  }
}
