/**
 * What each placement shares with the host. Placements are polyplug's own four (the manifest's
 * `placement` enum); this table is the one place outside `src/placement/` that spells their names,
 * so the host, the checks and the validator ask a trait instead of testing a name.
 */
import type { Manifest, PlacementName } from '../manifest/schema.js'
import { kindModule } from './registry.js'

export interface PlacementTraits {
  /**
   * `thread`: the host's own thread (a plugin's calls run on it); `process`: the host's process on
   * a thread of its own; `none`: a process of its own, or another machine.
   */
  readonly shares: 'thread' | 'process' | 'none'
  /** Reached at the manifest's `remote.url` (already running), not started by the host. */
  readonly dialed: boolean
}

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

/** Whether this plugin's calls run synchronously on the host's thread (nothing interrupts them, they cannot wait for the host). */
export function blocksHostThread(manifest: Pick<Manifest, 'kind' | 'placement'>): boolean {
  return placementTraits(manifest.placement).shares === 'thread' && kindModule(manifest.kind)?.inlineBlocksHost === true
}
