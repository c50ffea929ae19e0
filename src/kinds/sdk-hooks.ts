/**
 * A module resolve hook (node:module `register`) that gives a plugin the host's own copy of polyplug
 * when it imports `polyplug` or `polyplug/sdk`, wherever the plugin lives: a plugins folder outside the
 * application (e.g. `~/.myapp/plugins`) has no node_modules with polyplug in it. The specifier is
 * resolved as if imported from this file, which lies inside the host's polyplug package.
 * Registered by src/kinds/js.ts in each thread, only when a plugin's folder would not find that copy.
 */
import type { NextResolve, ResolveContext, ResolveResult } from './hook-types.js'

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<ResolveResult> {
  if (specifier === 'polyplug' || specifier.startsWith('polyplug/')) return nextResolve(specifier, { ...context, parentURL: import.meta.url })
  return nextResolve(specifier, context)
}
