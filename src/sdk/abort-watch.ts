/**
 * A cheaper way than `ctx.signal` for a kind to learn that a call it runs elsewhere (a native call
 * on the libuv pool) was cancelled or ran past its deadline. Reading `signal` makes an
 * AbortController, and listening to it an EventTarget listener: with 256 native calls queued on
 * the pool, doing that for every call cost more than the rest of the host's part of the call. A
 * context that offers `[WATCH_ABORT]` (the direct invoker's, src/sdk/direct.ts) tells the watcher
 * itself, at once, when it aborts; a context that does not (a call served over a channel) is
 * watched through its `signal` as before.
 */

/** The key of a context's watch: `context[WATCH_ABORT](watcher)`. Not part of MethodContext's public shape. */
export const WATCH_ABORT: unique symbol = Symbol('polyplug.watchAbort')

/** Told once, when the call it watches is cancelled or times out. */
export interface AbortWatcher {
  aborted(): void
}

interface Watchable {
  [WATCH_ABORT](watcher: AbortWatcher): void
}

/**
 * Asks `context` to tell `watcher` when its call aborts (at once if it already has); false when
 * the context cannot, and the caller must watch its `signal` instead.
 */
export function watchAbort(context: object, watcher: AbortWatcher): boolean {
  const watch = (context as Partial<Watchable>)[WATCH_ABORT]
  if (typeof watch !== 'function') return false
  watch.call(context, watcher)
  return true
}
