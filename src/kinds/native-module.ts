/**
 * `native`: a shared library exporting polyplug_plugin_v1 (docs/native-abi.md), loaded through koffi.
 * In a worker over a transport with a sync bridge it takes the bridge: its short calls then run on
 * the worker's own thread, their host calls wait on the bridge and the host raises their cancel
 * flags in shared memory (native-sync.ts).
 */
import type { KindModule } from '../registry/types.js'
import type { NativeBridge } from './native-sync.js'

export const nativeModule: KindModule = {
  name: 'native',
  description: 'a native shared library',
  placements: ['inline', 'worker', 'process'],
  defaultPlacement: 'process',
  needs: () => ['addon'],
  crashesProcess: true,
  takesBridge: true,
  blocksWorker: true,
  // Imported on first use: hosts without native plugins never load koffi.
  load: async () => {
    const { loadNativePlugin } = await import('./native.js')
    return ({ entryPath, id, bridge, manifest }) => loadNativePlugin(entryPath, id, bridge as NativeBridge | undefined, manifest.native?.workerCalls)
  },
  bridge: async () => {
    const [{ createWasmPump }, { CancelSlots }] = await Promise.all([import('./wasm-pump.js'), import('./cancel-slots.js')])
    return (port, wake, pluginId) => {
      const pump = createWasmPump(port, wake, pluginId)
      const bridge: NativeBridge = { ...pump.bridge, currentRequest: pump.currentRequest, slots: new CancelSlots(wake.buffer as SharedArrayBuffer) }
      return { port: pump.port, bridge, serve: (definition) => pump.serve(definition) }
    }
  },
}
