/** The registry with polyplug's own transports and kinds in it (src/registry/registry.ts). */
import { builtinKinds } from '../kinds/modules.js'
import { builtinTransports } from '../transports/modules.js'
import { registerKind, registerTransport } from './registry.js'

for (const module of builtinTransports) registerTransport(module)
for (const module of builtinKinds) registerKind(module)

export * from './registry.js'
export * from './placements.js'
export type * from './types.js'
