/** Whether a plugin finds the host's own polyplug/sdk by itself, or gets it through sdk-hooks.ts. */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** Set by the process placement for its Node carrier: '1' when the plugin needs sdk-hooks.ts, else '0'. */
export const SHARE_SDK_ENV = 'POLYPLUG_SHARE_SDK'

/** The host's own `polyplug/sdk` (package.json "exports"). */
const hostSdk = fileURLToPath(new URL('../sdk/index.js', import.meta.url))

/**
 * Whether a plugin at `entryPath` finds the host's copy of `polyplug/sdk` by itself (inside the
 * application, or inside polyplug's own folder). When not, sdk-hooks.ts gives it that copy, in a
 * hooks thread. A confined process carrier cannot look for itself (its reads are limited): the host
 * decides (the kind's `module-hooks` need), tells it in SHARE_SDK_ENV and grants the thread.
 */
export function findsHostSdk(entryPath: string): boolean {
  try {
    return createRequire(entryPath).resolve('polyplug/sdk') === hostSdk
  } catch {
    return false
  }
}


