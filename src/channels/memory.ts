import type { Carries, Channel, ChannelSink } from './channel.js'
import { normalizeChannel } from './normalize.js'

export interface MemoryPairOptions {
  /** What the pair claims to carry; `bytes` lets tests run codecs and size limits in memory. */
  carries?: Carries
  /** Deliver on a later microtask (default) like a real transport, or synchronously. */
  sync?: boolean
}

/**
 * Two connected in-memory channels. `direct` placement uses one with `structured-clone` semantics
 * without the clone: values pass by reference, which is what an inline plugin gets anyway.
 */
export function createMemoryPair(options: MemoryPairOptions = {}): [Channel, Channel] {
  const carries = options.carries ?? 'structured-clone'
  const sinks: [ChannelSink | undefined, ChannelSink | undefined] = [undefined, undefined]
  const deliver = options.sync
    ? (fn: () => void) => fn()
    : (fn: () => void) => queueMicrotask(fn)

  function side(self: 0 | 1): Channel {
    const other = (1 - self) as 0 | 1
    return normalizeChannel({
      carries,
      open(sink) {
        sinks[self] = sink
      },
      send(message) {
        deliver(() => sinks[other]?.message(message))
      },
      close() {
        // Closing one end is seen by the other as the peer going away, cleanly.
        deliver(() => sinks[other]?.closed())
      },
    })
  }
  return [side(0), side(1)]
}
