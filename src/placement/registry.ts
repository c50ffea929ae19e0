/** Which launcher starts a plugin, by its manifest's placement. */
import type { Manifest } from '../manifest/schema.js'
import { launchInline } from './inline.js'
import type { Launcher } from './placement.js'
import { launchProcess } from './process.js'
import { launchRemote } from './remote.js'
import { launchWorker } from './worker.js'

const launchers: Partial<Record<Manifest['placement'], Launcher>> = {
  inline: launchInline,
  worker: launchWorker,
  process: launchProcess,
  remote: launchRemote,
}

export function launcherFor(placement: Manifest['placement']): Launcher | undefined {
  return launchers[placement]
}
