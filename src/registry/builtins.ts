/**
 * polyplug's own kinds and transports by name, each loaded on its own: a thread that serves one
 * plugin (the worker carrier) registers that plugin's kind and transport only, instead of importing
 * every built-in module as `./index.ts` does for the host. The lists are kinds/modules.ts and
 * transports/modules.ts; test/first-call-loads.test.ts checks that the two agree.
 */
import type { Manifest } from '../manifest/schema.js'
import { kindModule, registerKind, registerTransport, transportModule } from './registry.js'
import type { KindModule, TransportModule } from './types.js'

export const builtinKindLoaders: Readonly<Record<string, () => Promise<KindModule>>> = {
  js: async () => (await import('../kinds/js-module.js')).jsModule,
  wasm: async () => (await import('../kinds/wasm-module.js')).wasmModule,
  native: async () => (await import('../kinds/native-module.js')).nativeModule,
  exec: async () => (await import('../kinds/exec-module.js')).execModule,
  python: async () => (await import('../kinds/python-module.js')).pythonModule,
}

export const builtinTransportLoaders: Readonly<Record<string, () => Promise<TransportModule>>> = {
  direct: async () => (await import('../transports/direct-module.js')).directModule,
  port: async () => (await import('../transports/port-module.js')).portModule,
  stdio: async () => (await import('../transports/stdio-module.js')).stdioModule,
  fifo: async () => (await import('../transports/fifo-module.js')).fifoModule,
  unix: async () => (await import('../transports/unix-module.js')).unixModule,
  tcp: async () => (await import('../transports/tcp-module.js')).tcpModule,
  http: async () => (await import('../transports/http-module.js')).httpModule,
  ws: async () => (await import('../transports/http-module.js')).wsModule,
  mqtt: async () => (await import('../transports/mqtt-module.js')).mqttModule,
  shm: async () => (await import('../transports/shm/module.js')).shmModule,
}

/** Registers the built-in kind and transport `manifest` names, when they are built-ins not yet registered. */
export async function registerBuiltinsFor(manifest: Pick<Manifest, 'kind' | 'transport'>): Promise<void> {
  const kind = Object.hasOwn(builtinKindLoaders, manifest.kind) ? builtinKindLoaders[manifest.kind] : undefined
  const name = manifest.transport ?? ''
  const transport = Object.hasOwn(builtinTransportLoaders, name) ? builtinTransportLoaders[name] : undefined
  if (kind && !kindModule(manifest.kind)) registerKind(await kind())
  if (transport && !transportModule(name)) registerTransport(await transport())
}
