/** `native`: a shared library exporting polyplug_plugin_v1 (docs/native-abi.md), loaded through koffi. */
import type { KindModule } from '../registry/types.js'

export const nativeModule: KindModule = {
  name: 'native',
  description: 'a native shared library',
  placements: ['inline', 'worker', 'process'],
  defaultPlacement: 'process',
  needs: () => ['addon'],
  crashesProcess: true,
  // Imported on first use: hosts without native plugins never load koffi.
  load: async () => {
    const { loadNativePlugin } = await import('./native.js')
    return ({ entryPath, id }) => loadNativePlugin(entryPath, id)
  },
}
