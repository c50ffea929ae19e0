/**
 * `port` transport: a MessagePort, a Worker, or a worker's parentPort. Messages are structured
 * clones, so no codec runs. The channel does not own the worker: whoever started it decides when
 * the channel ends (see placement/worker.ts), except that a MessagePort's own `close` ends it.
 *
 * The first message of a tick is posted at once, as itself: a call with nothing else to send in
 * its tick schedules nothing (a `process.nextTick` per post was the largest item of a round trip
 * over a worker's port: Node 20 ends each drain of the tick queue in `processPromiseRejections`,
 * which makes a Map every time). The messages sent after it in the same tick go as one post of an
 * array (on `process.nextTick`, after the current callback and its microtasks): one clone, one
 * wake-up of the other thread and one callback there for the whole batch, instead of one each.
 * "After it in the same tick" is told without scheduling anything: a message goes alone when the
 * channel has posted nothing since it last received a post (each arrives in a callback of its
 * own) or ended a tick's batch; any other message starts or joins the tick's batch. So a burst
 * posts its first message and then one batch, a call and its answer each go at once, and a side
 * that posts lone messages on ticks of its own without receiving any posts every other one at
 * its tick's end, as every one was before.
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
import { compact, pack, unpack } from '../rpc/port-envelope.js'

/** Messages per post: a full batch goes at once, so the other thread starts on it while this one makes the next. */
const MAX_BATCH = 64

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
  /** A message went alone since the last post received or batch ended: the next one starts a batch. */
  let postedAlone = false
  /** Posts one message as itself; one that would not clone is told to `failed` instead. */
  const postOne = (message: unknown, failed: (message: unknown, error: unknown) => void) => {
    try {
      port.postMessage(compact(message))
    } catch (error) {
      failed(message, error)
    }
  }
  const flush = () => {
    const messages = batch
    batch = undefined
    if (!messages) return
    try {
      port.postMessage(pack(messages))
    } catch {
      // One message would not clone (a function in a result...): post the rest, answer for that one.
      for (const message of messages) postOne(message, unsent)
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
  /** The end of a tick that had a batch: it leaves, and the next tick's first message may go alone. */
  const endTick = () => {
    postedAlone = false
    flush()
  }
  /** A lone message that would not clone is answered for after its send has returned, as a batched one is. */
  const unsentLater = (message: unknown, error: unknown) => process.nextTick(unsent, message, error)
  port.adoptFlush?.(flush)
  return normalizeChannel({
    carries: 'structured-clone',
    open(sink) {
      deliver = (message) => sink.message(message)
      const onMessage = (value: unknown) => {
        postedAlone = false // a callback of its own: the first message sent in it may go alone
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
      } else if (postedAlone || port.wholeTicks) {
        batch = [message]
        process.nextTick(endTick)
      } else {
        postedAlone = true
        postOne(message, unsentLater)
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
