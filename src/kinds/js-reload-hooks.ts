/**
 * Module customization hooks (node:module `register`) that make a reloaded inline JS plugin load
 * its own files afresh. Node's ESM loader caches modules by URL and never evicts them, so the host
 * imports a reloaded entry as `entry.js?polyplug-gen=N`; this hook gives every file the entry
 * imports, and the files those import, the same `polyplug-gen`, so the whole graph of the
 * plugin's own files is new. Packages under node_modules keep their single cached copy.
 * Registered only on the first reload (src/kinds/js.ts): hosts that never reload pay nothing.
 */
import type { NextResolve, ResolveContext, ResolveResult } from './hook-types.js'

const PARAM = 'polyplug-gen'


export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult> {
  const result = await nextResolve(specifier, context)
  const parent = context.parentURL
  if (!parent || !parent.includes(PARAM) || !result.url.startsWith('file:') || result.url.includes('/node_modules/')) return result
  const generation = new URL(parent).searchParams.get(PARAM)
  const url = new URL(result.url)
  if (generation === null || url.searchParams.has(PARAM)) return result
  url.searchParams.set(PARAM, generation)
  return { ...result, url: url.href }
}
