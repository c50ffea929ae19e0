import type { Channel } from './channel.js'

/**
 * `outer`, a wrapper around `inner` that changes how the channel sends and closes but not what it
 * delivers, with its messages taken straight from `inner`: a listener subscribes to `inner`
 * itself, so a message reaches it with no call or listener set of the wrapper's in between (a
 * process's channel, which closes with the exit status, is one such wrapper; at 256 calls in
 * flight over shared memory its relay was a listener call and a Set walk per answer). Everything
 * else is `outer`'s: sends, close and its reason, `closed`. Messages stop when `outer` closes,
 * as they would behind a relay: its close unsubscribes them. `inner` keeps what arrives before
 * the first listener, as every normalized channel does.
 */
export function deliverFrom(inner: Channel, outer: Channel): Channel {
  const subscriptions = new Set<() => void>()
  outer.onClose(() => {
    for (const unsubscribe of subscriptions) unsubscribe()
    subscriptions.clear()
  })
  return {
    carries: outer.carries,
    ...(outer.binary ? { binary: true } : {}),
    ...(outer.useCodec ? { useCodec: outer.useCodec } : {}),
    ...(outer.sendText ? { sendText: outer.sendText } : {}),
    get closed() {
      return outer.closed
    },
    send: outer.send,
    onMessage(listener) {
      if (outer.closed) return () => {}
      const unsubscribe = inner.onMessage(listener)
      subscriptions.add(unsubscribe)
      return () => {
        subscriptions.delete(unsubscribe)
        unsubscribe()
      }
    },
    onClose: outer.onClose,
    close: outer.close,
  }
}
