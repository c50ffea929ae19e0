/**
 * Which launcher starts a plugin, by its manifest's placement. The inline launcher loads with the
 * host (its modules are the session code every host runs); the worker, process and remote
 * launchers, with node:worker_threads, node:child_process (and node:net), the sandbox and the
 * framing, load when the first plugin of their placement starts, so a host pays for the
 * placements its plugins use (docs/performance.md, footprint).
 */
import type { Manifest } from '../manifest/schema.js'
import { launchInline } from './inline.js'
import type { Launcher } from './placement.js'

/** A launcher whose module is imported on its first launch. */
function onDemand(load: () => Promise<Launcher>): Launcher {
  let launcher: Launcher | undefined
  return async (spec) => (launcher ??= await load())(spec)
}

const launchers: Partial<Record<Manifest['placement'], Launcher>> = {
  inline: launchInline,
  worker: onDemand(async () => (await import('./worker.js')).launchWorker),
  process: onDemand(async () => (await import('./process.js')).launchProcess),
  remote: onDemand(async () => (await import('./remote.js')).launchRemote),
}

export function launcherFor(placement: Manifest['placement']): Launcher | undefined {
  return launchers[placement]
}
