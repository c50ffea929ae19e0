import { RpcErrorCodes, PolyplugError } from '../rpc/errors.js'
import type { Channel, RawChannel } from './channel.js'

/** Messages kept for a channel nobody listens to yet (the host subscribes right after connecting). */
export const PRE_LISTENER_LIMIT = 4096

/**
 * Wraps a transport so that every channel behaves the same: close is idempotent and awaits the
 * transport, close listeners fire exactly once, sends after close fail with CHANNEL_CLOSED, and
 * messages that arrive before anyone listens are kept, in order — at most PRE_LISTENER_LIMIT of
 * them: a party that sends more before the other side listens closes the channel with CHANNEL_FULL.
 */
export function normalizeChannel(raw: RawChannel): Channel {
  const messageListeners = new Set<(message: unknown) => void>()
  /** The listener when there is exactly one (a Peer's): a message goes to it without iterating the Set. */
  let onlyListener: ((message: unknown) => void) | undefined
  const closeListeners = new Set<(error?: Error) => void>()
  let queue: unknown[] | undefined = []
  let flushing = false
  let closed = false
  let closeError: Error | undefined
  let closing: Promise<void> | undefined

  function finish(error?: Error): void {
    if (closed) return
    closed = true
    closeError = error
    for (const listener of [...closeListeners]) callSafely(listener, error)
    closeListeners.clear()
    messageListeners.clear()
    onlyListener = undefined
  }

  /**
   * One message to every listener, in the order they subscribed; a listener added while the message
   * is delivered receives it too (as iterating the Set does, which the one-listener case skips).
   */
  function deliver(message: unknown): void {
    const only = onlyListener
    if (only === undefined) {
      for (const listener of messageListeners) listener(message)
      return
    }
    only(message)
    // Rare: the listener subscribed another one while it ran.
    if (onlyListener !== only) for (const listener of messageListeners) if (listener !== only) listener(message)
  }

  function listenersChanged(): void {
    onlyListener = messageListeners.size === 1 ? messageListeners.values().next().value : undefined
  }

  function shut(reason?: Error): Promise<void> {
    if (closing) return closing
    finish(reason)
    closing = Promise.resolve()
      .then(() => raw.close(reason))
      .catch(() => {}) // the channel is closed either way; a failing release must not surface twice
    return closing
  }

  raw.open({
    message(message) {
      if (closed) return
      if (!queue) {
        deliver(message)
      } else if (flushing || queue.length < PRE_LISTENER_LIMIT) {
        // Once someone listens (`flushing`), the queue drains on the next microtask whatever its size.
        queue.push(message)
      } else {
        queue = undefined
        shut(new PolyplugError(RpcErrorCodes.CHANNEL_FULL, `more than ${PRE_LISTENER_LIMIT} messages arrived before anyone listened: the other side sends before the handshake`))
      }
    },
    closed(error) {
      closing ??= Promise.resolve()
      finish(error)
    },
  })

  function sendAfterClose(): PolyplugError {
    return new PolyplugError(RpcErrorCodes.CHANNEL_CLOSED, 'send after the channel closed', { cause: closeError })
  }

  function sendTextOf(send: (text: string) => void | Promise<void>): (text: string) => void | Promise<void> {
    return (text) => {
      if (closed) throw sendAfterClose()
      return send(text)
    }
  }

  const channel: Channel = {
    carries: raw.carries,
    ...(raw.binary ? { binary: true } : {}),
    ...(raw.useCodec ? { useCodec: raw.useCodec.bind(raw) } : {}),
    ...(raw.explainFailures ? { explainFailures: raw.explainFailures.bind(raw) } : {}),
    ...(raw.sendText ? { sendText: sendTextOf(raw.sendText.bind(raw)) } : {}),
    get closed() {
      return closed
    },
    send(message) {
      if (closed) throw sendAfterClose()
      return raw.send(message)
    },
    onMessage(listener) {
      messageListeners.add(listener)
      listenersChanged()
      if (queue && !flushing) {
        // Deliver what queued on a later microtask, so the subscriber can finish setting up
        // (a Peer registers its handlers right after subscribing).
        flushing = true
        queueMicrotask(() => {
          const pending = queue ?? []
          queue = undefined
          for (const message of pending) {
            if (closed) break
            deliver(message)
          }
        })
      }
      return () => {
        const removed = messageListeners.delete(listener)
        listenersChanged()
        return removed
      }
    },
    onClose(listener) {
      if (closed) {
        callSafely(listener, closeError)
        return () => {}
      }
      closeListeners.add(listener)
      return () => closeListeners.delete(listener)
    },
    close(reason) {
      return shut(reason)
    },
  }
  return channel
}

function callSafely(listener: (error?: Error) => void, error: Error | undefined): void {
  try {
    listener(error)
  } catch (err) {
    // A throwing listener must not stop the others from learning about the close.
    queueMicrotask(() => {
      throw err
    })
  }
}
