/**
 * `wasm`: a module on the polyplug WASM ABI (or Extism's). Its WASI imports see only its grants.
 * In a worker its synchronous host calls and sleeps wait on a bridge (wasm-pump.ts), which the
 * worker's transport must provide; in a process the carrier runs it in a worker of its own with that
 * bridge (placement/carrier-relay.ts); inline it runs without one (host calls fail with
 * HOST_CALL_UNAVAILABLE, docs/wasm-abi.md).
 */
import type { KindModule } from '../registry/types.js'
import type { WasmBridge } from './wasm.js'

export const wasmModule: KindModule = {
  name: 'wasm',
  description: 'a WebAssembly module',
  placements: ['inline', 'worker', 'process'],
  defaultPlacement: 'worker',
  inlineBlocksHost: true,
  ownsMemoryLimit: true,
  needs: (manifest, _dir, placement) => [
    'wasi',
    // On a thread of the host's process (a worker): the bridge its transport provides.
    ...(placement.shares === 'process' ? (['sync-bridge'] as const) : []),
    // In a process of its own, the carrier's own worker (carrier-relay.ts).
    ...(placement.shares === 'none' ? (['threads'] as const) : []),
    // Extism's http_request fetches in a helper thread (extism-http.ts) once network hosts are granted.
    ...(manifest.wasm?.abi === 'extism' && (manifest.permissions?.network?.connect?.length ?? 0) > 0 ? (['threads'] as const) : []),
  ],
  // Each ABI's loader is imported when a plugin on that ABI loads: a polyplug-ABI plugin does not
  // wait for Extism's kernel and its HTTP helper (synckit), nor the other way round.
  load: async () => async ({ bridge, ...request }) =>
    request.manifest.wasm?.abi === 'extism'
      ? (await import('./wasm-extism.js')).loadExtismPlugin({ ...request, bridge: bridge as WasmBridge | undefined })
      : (await import('./wasm.js')).loadWasmPlugin({ ...request, bridge: bridge as WasmBridge | undefined }),
  bridge: async () => (await import('./wasm-pump.js')).createWasmPump,
}
