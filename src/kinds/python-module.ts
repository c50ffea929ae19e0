/**
 * `python`: a Python module on the kits/python API (the same file a sidecar runs), run in the
 * host's process by Pyodide (CPython on WebAssembly; the optional `pyodide` package). In a worker
 * its host calls and sleeps wait on the sync bridge and a cancelled call is interrupted; inline it
 * runs on the host's thread (no host calls, nothing can interrupt it). As a sidecar the same file
 * runs under python3 with kind `exec`.
 */
import type { KindModule } from '../registry/types.js'
import type { PythonBridge } from './python.js'

export const pythonModule: KindModule = {
  name: 'python',
  description: 'a Python module (kits/python) run in-process by Pyodide',
  placements: ['inline', 'worker'],
  defaultPlacement: 'worker',
  // On a thread of the host's process (a worker): the bridge its transport provides.
  needs: (_manifest, _dir, placement) => (placement.shares === 'process' ? ['sync-bridge'] : []),
  inlineBlocksHost: true,
  interrupt: true,
  load: async () => {
    const { loadPythonPlugin } = await import('./python.js')
    return ({ bridge, ...request }) => loadPythonPlugin({ ...request, bridge: bridge as PythonBridge | undefined })
  },
  bridge: async () => {
    const { createWasmPump } = await import('./wasm-pump.js')
    return (port, wake, pluginId) => {
      const pump = createWasmPump(port, wake, pluginId)
      const bridge: PythonBridge = { ...pump.bridge, interrupt: new Int32Array(wake.buffer, 4, 1) }
      return { port: pump.port, bridge, serve: (definition) => pump.serve(definition) }
    }
  },
}
