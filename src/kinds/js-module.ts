/** `js`: an ES module (JavaScript, or TypeScript transpiled on load) exporting definePlugin(...). */
import { resolve } from 'node:path'
import type { KindModule } from '../registry/types.js'
import { findsHostSdk } from './sdk-share.js'

export const jsModule: KindModule = {
  name: 'js',
  description: 'a JavaScript or TypeScript module',
  placements: ['inline', 'worker', 'process'],
  defaultPlacement: 'inline',
  // TypeScript's loader runs as module hooks, in a thread of their own; so does the resolve hook
  // that gives a plugin outside the application the host's polyplug/sdk (sdk-hooks.ts).
  needs: (manifest, dir) => [
    ...(/\.m?ts$/.test(manifest.entry) ? (['typescript'] as const) : []),
    ...(dir !== undefined && !findsHostSdk(resolve(dir, manifest.entry)) ? (['module-hooks'] as const) : []),
  ],
  // A plugin's `definePlugin` comes from the package's polyplug/sdk: its carrier shares those modules.
  importsSdk: true,
  load: async () => {
    const { loadJsPlugin } = await import('./js.js')
    return ({ entryPath, id }) => loadJsPlugin(entryPath, id)
  },
}
