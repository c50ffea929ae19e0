/**
 * What each placement shares with the host. Placements are polyplug's own four (the manifest's
 * `placement` enum); this table is the one place outside `src/placement/` that spells their names,
 * so the host, the checks and the validator ask a trait instead of testing a name.
 */
import type { Manifest, PlacementName } from '../manifest/schema.js'
import { kindModule } from './registry.js'
import type { PlacementTraits } from './types.js'

export type { PlacementTraits }

const traits: Record<PlacementName, PlacementTraits> = {
  inline: { shares: 'thread', dialed: false },
  worker: { shares: 'process', dialed: false },
  process: { shares: 'none', dialed: false },
  remote: { shares: 'none', dialed: true },
}

export function placementTraits(placement: PlacementName): PlacementTraits {
  return traits[placement]
}

/** The placements that have `trait` (for messages that name them). */
export function placementsWhere(trait: (traits: PlacementTraits) => boolean): PlacementName[] {
  return (Object.keys(traits) as PlacementName[]).filter((p) => trait(traits[p]))
}

/**
 * Whether the host survives this plugin crashing: a placement that shares nothing contains any
 * crash; a worker contains a thrown error or a trap, but not a kind whose crash ends the process.
 */
export function crashContained(manifest: Pick<Manifest, 'kind' | 'placement'>): boolean {
  const { shares } = placementTraits(manifest.placement)
  return shares === 'none' || (shares === 'process' && kindModule(manifest.kind)?.crashesProcess !== true)
}

/**
 * Whether the host starts this plugin's entry (or its sidecar.command) as a program of its own: a
 * kind with no in-process loader, in a placement the host starts that shares nothing with it.
 */
export function spawnsEntry(manifest: Pick<Manifest, 'kind' | 'placement'>): boolean {
  const { shares, dialed } = placementTraits(manifest.placement)
  const kind = kindModule(manifest.kind)
  return shares === 'none' && !dialed && kind !== undefined && kind.load === undefined
}

/** Whether this plugin's calls run synchronously on the host's thread (nothing interrupts them, they cannot wait for the host). */
export function blocksHostThread(manifest: Pick<Manifest, 'kind' | 'placement'>): boolean {
  return placementTraits(manifest.placement).shares === 'thread' && kindModule(manifest.kind)?.inlineBlocksHost === true
}
