/**
 * Discovery: reads the plugin folders, validates every manifest and resolves dependencies. No
 * plugin code runs; folders that cannot be loaded are logged and listed, never thrown.
 */
import { discoverPlugins, type LoadedManifest } from '../manifest/load.js'
import { HOST_VERSION } from './host-api.js'
import type { HostLogger } from './log.js'
import type { InvalidPlugin } from './plugins.js'
import { resolvePlugins, type Resolution } from './resolve.js'

export interface Scan {
  /** The kept plugins: their order, dependencies, the problems that make some unavailable, their manifests by id. */
  resolution: Resolution
  /** Folders not loaded: an invalid manifest, or a duplicate id. */
  invalid: InvalidPlugin[]
}

export async function discover(folders: readonly string[], log: HostLogger): Promise<Scan> {
  const valid: LoadedManifest[] = []
  const invalid: InvalidPlugin[] = []
  for (const item of await discoverPlugins(folders)) {
    if (item.ok) valid.push(item.loaded)
    else {
      invalid.push({ dir: item.dir, error: item.error })
      log({ level: 'error', message: item.error.message })
    }
  }
  const resolution = resolvePlugins(valid, HOST_VERSION)
  for (const { loaded, error } of resolution.duplicates) {
    invalid.push({ dir: loaded.dir, error })
    log({ level: 'error', plugin: error.plugin, message: error.message })
  }
  return { resolution, invalid }
}
