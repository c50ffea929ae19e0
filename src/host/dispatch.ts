/** What contribution points (commands, hooks, events) need from the host to reach plugins. */
import type { CallOptions } from '../rpc/types.js'

export interface Dispatch {
  /** Activates the plugin (and its dependencies) for `reason` if needed, then calls `method`. */
  call(plugin: string, method: string, args: unknown[], reason: string, options?: CallOptions): Promise<unknown>
  /** Activates the plugin (and its dependencies) for `reason` if it is not running. */
  activate(plugin: string, reason: string): Promise<void>
  /** Whether the plugin could run at all (not disabled, not unavailable). */
  usable(plugin: string): boolean
  /** Whether the plugin is running now. */
  active(plugin: string): boolean
  /** Position in the activation order: dependencies sort before dependants. */
  rank(plugin: string): number
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, plugin?: string): void
}

/** Something a plugin registered at run time; released when the plugin deactivates, even if it forgets to. */
export type Disposable = () => void

/** Appends `item` to the list under `key`; the returned function removes that one entry again. */
export function addToList<T>(lists: Map<string, T[]>, key: string, item: T): Disposable {
  const list = lists.get(key) ?? []
  list.push(item)
  lists.set(key, list)
  return () => {
    const at = list.indexOf(item)
    if (at >= 0) list.splice(at, 1)
  }
}
