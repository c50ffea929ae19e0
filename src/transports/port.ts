/**
 * `port` transport: a MessagePort, a Worker, or a worker's parentPort. Messages are structured
 * clones, so no codec runs. The channel does not own the worker: whoever started it decides when
 * the channel ends (see placement/worker.ts), except that a MessagePort's own `close` ends it.
 *
 * Messages sent in the same tick go as one post of an array (on `process.nextTick`, after the
 * current callback and its microtasks): one clone, one wake-up of the other thread and one
 * callback there for the whole batch, instead of one each. After a lone message arrived — one call
 * in flight — the batch this channel starts next leaves sooner and cheaper: at the microtask
 * checkpoint after the send (a reaction of a settled promise), not at the tick's end. A
 * `process.nextTick` per post was the largest item of a round trip over a worker's port: Node 20
 * ends each drain of the tick queue in `processPromiseRejections`, which makes a Map every time.
 * The sends of that callback made before the checkpoint still share the post (a burst of calls
 * stays one post: its first message posted alone would travel alone from then on, one more wake-up
 * per batch on each side); what is sent after it, and every batch after a batch arrived, waits for
 * the tick's end as before.
 * A message is never an array itself (the Peer sends objects), so an array received is always a
 * batch, delivered in order. A port whose other end reads messages one at a time says
 * `unbatched`; a sync bridge reads batches and says `wholeTicks` (every message of a tick in one
 * post, the first too), and a bridge that posts by itself as well takes the channel's flush
 * (`adoptFlush`).
 *
 * Between two port channels a message of one of the Peer's shapes travels in a compact form
 * (../rpc/port-envelope.ts): an array led by a number tag, which a batch never is. Both forms are read
 * on arrival; an unbatched port sends the plain form.
 */
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel } from '../channels/channel.js'
import type { WorkerLink } from '../registry/types.js'
import { PolyplugError, RpcErrorCodes, toPolyplugError } from '../rpc/errors.js'
import { errorToWire, isRecord } from '../rpc/wire.js'
import { carriesOne, compact, pack, unpack } from '../rpc/port-envelope.js'

/** Messages per post: a full batch goes at once, so the other thread starts on it while this one makes the next. */
const MAX_BATCH = 64

/** Its reactions run at the next microtask checkpoint: when a batch started with one call in flight leaves. */
const settled = Promise.resolve()

export interface PortLike {
  postMessage(value: unknown): void
  on(event: 'message' | 'close', listener: (value: unknown) => void): unknown
  off(event: 'message' | 'close', listener: (value: unknown) => void): unknown
  /** MessagePort has it; a Worker or parentPort is ended by its owner instead. */
  close?(): void
  /**
   * Post every message on its own, at once: the other end may read them one by one outside its
   * event loop (`receiveMessageOnPort` in a sync bridge), or this port is also posted to directly.
   */
  readonly unbatched?: boolean
  /**
   * Gather every message of a tick into one post, the first one too: the other end is a sync
   * bridge, which is woken (`Atomics.notify`) once per post and whose guest, blocked in a call,
   * reads a tick's messages in one take; its own answers to a batch leave in one post.
   */
  readonly wholeTicks?: boolean
  /**
   * A port that also posts by itself (a sync bridge, answering while its guest blocks) takes the
   * channel's flush: it calls it before each post of its own, so that every message keeps its
   * order with the batch the channel still holds.
   */
  adoptFlush?(flush: () => void): void
}

export function portChannel(port: PortLike): Channel {
  let detach = () => {}
  let deliver: (message: unknown) => void = () => {}
  let batch: unknown[] | undefined
  /** The last post received carried one message, and no batch was started since: the next batch leaves at the microtask checkpoint. */
  let oneInFlight = false
  const flush = () => {
    const messages = batch
    batch = undefined
    if (!messages) return
    try {
      port.postMessage(pack(messages))
    } catch {
      // One message would not clone (a function in a result...): post the rest, answer for that one.
      for (const message of messages) {
        try {
          port.postMessage(compact(message))
        } catch (error) {
          unsent(message, error)
        }
      }
    }
  }
  /**
   * What a send that threw at once used to tell its caller, told now: a request fails with the
   * clone error (answered to this side's own Peer), a response is answered with it instead.
   */
  const unsent = (message: unknown, error: unknown) => {
    if (!isRecord(message) || (typeof message.id !== 'string' && typeof message.id !== 'number')) return
    const wire = errorToWire(new PolyplugError(RpcErrorCodes.INTERNAL_ERROR, `message could not be sent: ${toPolyplugError(error).message}`, { cause: error }))
    const answer = { jsonrpc: '2.0', id: message.id, error: wire }
    if (typeof message.method === 'string') deliver(answer)
    else if (!('error' in message)) port.postMessage(answer)
  }
  port.adoptFlush?.(flush)
  return normalizeChannel({
    carries: 'structured-clone',
    open(sink) {
      deliver = (message) => sink.message(message)
      const onMessage = (value: unknown) => {
        oneInFlight = carriesOne(value)
        if (Array.isArray(value)) unpack(value, each)
        else sink.message(value)
      }
      const each = (message: unknown) => sink.message(message)
      const onClose = () => sink.closed()
      port.on('message', onMessage)
      port.on('close', onClose)
      detach = () => {
        port.off('message', onMessage)
        port.off('close', onClose)
      }
    },
    send(message) {
      if (port.unbatched) return port.postMessage(message)
      if (batch) {
        if (batch.push(message) >= MAX_BATCH) flush()
      } else {
        batch = [message]
        if (oneInFlight && !port.wholeTicks) void settled.then(flush)
        else process.nextTick(flush)
        oneInFlight = false
      }
    },
    close() {
      flush()
      detach()
      port.close?.()
    },
  })
}

/** `worker` placement over the worker's own port: both ends are a portChannel. */
export const portWorkerLink: WorkerLink = {
  prepare: () => undefined,
  host: (_data, port) => portChannel(port),
  plugin: (_data, port) => portChannel(port),
}
