/** `direct`: an inline plugin's methods are plain function calls on the host's thread. */
import type { TransportModule } from '../registry/types.js'

export const directModule: TransportModule = {
  name: 'direct',
  description: 'inline: function calls on the host thread, no wire',
  defaultFor: ['inline'],
  inline: {},
}
