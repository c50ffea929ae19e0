/** `js`: an ES module (JavaScript, or TypeScript transpiled on load) exporting definePlugin(...). */
import type { KindModule } from '../registry/types.js'

export const jsModule: KindModule = {
  name: 'js',
  description: 'a JavaScript or TypeScript module',
  placements: ['inline', 'worker', 'process'],
  defaultPlacement: 'inline',
  // TypeScript's loader runs as module hooks, in a thread of their own.
  needs: (manifest) => (/\.m?ts$/.test(manifest.entry) ? ['typescript'] : []),
  load: async () => {
    const { loadJsPlugin } = await import('./js.js')
    return ({ entryPath, id }) => loadJsPlugin(entryPath, id)
  },
}
