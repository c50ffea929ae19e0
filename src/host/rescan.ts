/**
 * Rescan: brings the known plugins in line with what discovery finds now. Its jobs, in order:
 * tell what changed (structurally, by manifest), retire the plugins that left or changed (their
 * running dependants stop too), take the new resolution, and admit the new and changed plugins.
 * Everything else keeps running.
 */
import { createRequire } from 'node:module'
import type { LoadedManifest } from '../manifest/load.js'
import type { Disposable } from './dispatch.js'
import type { Scan } from './discovery.js'
import type { PluginEntry } from './entry.js'
import type { HostLogger } from './log.js'
import type { PluginSet } from './plugins.js'

/** What a `rescan` changed, by plugin id. */
export interface RescanResult {
  added: string[]
  removed: string[]
  /** Another manifest or folder under the same id: stopped, then replaced. */
  updated: string[]
}

export interface RescanContext {
  plugins: PluginSet
  log: HostLogger
  /** Stops a plugin and, first, its running dependants. */
  stop(id: string): Promise<unknown>
  /** A new entry for a plugin that appeared or changed, its contributions registered. */
  admit(loaded: LoadedManifest): PluginEntry
  /** The ids the application disabled (durable state). */
  disabled(): ReadonlySet<string>
}

// node:util (with the argument parser and MIME modules it loads) only once a plugin is seen again:
// a host's first scan, at its start, compares nothing.
const require = createRequire(import.meta.url)

/** The same plugin: the same manifest file with equal contents (key order aside). */
export function samePlugin(before: LoadedManifest, after: LoadedManifest): boolean {
  return before.file === after.file && (require('node:util') as typeof import('node:util')).isDeepStrictEqual(before.manifest, after.manifest)
}

/** Which ids appeared, left, or now have another manifest or folder. */
export function diffPlugins(known: PluginSet, next: ReadonlyMap<string, LoadedManifest>): RescanResult {
  const changed = (id: string) => !samePlugin(known.runtime(id).loaded, next.get(id)!)
  return {
    removed: known.ids().filter((id) => !next.has(id)),
    updated: [...next.keys()].filter((id) => known.has(id) && changed(id)),
    added: [...next.keys()].filter((id) => !known.has(id)),
  }
}

export async function rescan(scan: Scan, context: RescanContext): Promise<RescanResult> {
  const { resolution } = scan
  const diff = diffPlugins(context.plugins, resolution.plugins)
  const watches = await retire(diff, context)
  context.plugins.setResolution(resolution.order, scan.invalid)
  admit(new Set([...diff.added, ...diff.updated]), scan, context, watches)
  return diff
}

/** Stops and forgets removed and updated plugins; returns the dev-mode watches that go on for the updated ones. */
async function retire({ removed, updated }: RescanResult, context: RescanContext): Promise<Map<string, Disposable>> {
  const watches = new Map<string, Disposable>()
  for (const id of [...removed, ...updated]) {
    await context.stop(id)
    const entry = context.plugins.remove(id)
    const watch = updated.includes(id) ? entry?.takeWatch() : undefined
    if (watch) watches.set(id, watch)
    entry?.dispose()
  }
  return watches
}

/** Creates entries for new and changed plugins (in resolution order), and gives every plugin its resolved dependencies and verdict. */
function admit(fresh: ReadonlySet<string>, { resolution }: Scan, context: RescanContext, watches: ReadonlyMap<string, Disposable>): void {
  const disabled = context.disabled()
  for (const id of resolution.order) {
    if (fresh.has(id)) {
      const entry = context.admit(resolution.plugins.get(id)!)
      entry.runtime.setDisabled(disabled.has(id))
      const watch = watches.get(id)
      if (watch) entry.watch(watch)
      context.plugins.add(entry)
    }
    const runtime = context.plugins.runtime(id)
    runtime.dependencies = resolution.dependencies.get(id) ?? []
    const problem = resolution.unavailable.get(id)
    runtime.setUnavailable(problem)
    if (problem) context.log({ level: 'error', plugin: id, message: `${problem.code}: ${problem.message}` })
  }
}
