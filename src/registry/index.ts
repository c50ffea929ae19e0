/** The registry with polyplug's own transports and kinds in it (src/registry/registry.ts). */
import { builtinKinds } from '../kinds/modules.js'
import { builtinTransports } from '../transports/modules.js'
import { kindModule, registerKind, registerTransport, transportModule } from './registry.js'

// A built-in's name already taken is the same built-in from a carrier's bundled copy (registry.ts
// shares the tables): that one stays. An application's own module comes after these, so a clash
// with a built-in's name is still refused.
for (const module of builtinTransports) if (!transportModule(module.name)) registerTransport(module)
for (const module of builtinKinds) if (!kindModule(module.name)) registerKind(module)

export * from './registry.js'
export * from './placements.js'
export type * from './types.js'
