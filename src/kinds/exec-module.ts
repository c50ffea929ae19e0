/** `exec`: any executable speaking the sidecar protocol (docs/protocol.md); it is its own process, so no loader. */
import type { KindModule } from '../registry/types.js'

export const execModule: KindModule = {
  name: 'exec',
  description: 'an executable',
  placements: ['process', 'remote'],
  defaultPlacement: 'process',
}
