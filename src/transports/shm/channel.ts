/**
 * `shm` transport: a Channel over the two rings of a shared region (docs/shm.md). The region and
 * the doorbell that wakes a sleeping side come from outside (a SharedArrayBuffer plus Atomics for
 * a worker, an mmap'd file plus pipes for a process); this file only moves messages.
 * Sends never block: when the ring is full they queue (bounded) and settle when space frees, or
 * fail with CHANNEL_FULL after the send deadline.
 *
 * Waiting for the answer (`spinMicros`): after a send, this thread polls the inbound ring for up
 * to that long (with its wait flag clear, so the other side need not ring) before going back to
 * the doorbell. A reply that comes back within the window is delivered without a doorbell in
 * either direction and without a trip through the event loop, which alone costs more than the
 * whole round trip; the price is up to `spinMicros` of this thread's time per send, and
 * SpinPolicy stops polling after sends whose answers keep coming late. The host polls briefly by
 * default (DEFAULT_HOST_SPIN_MICROS); a larger value is the low-latency mode.
 */
import type { Channel, ChannelSink } from '../../channels/channel.js'
import { normalizeChannel } from '../../channels/normalize.js'
import { PolyplugError, toPolyplugError } from '../../rpc/errors.js'
import { ErrorCodes } from '../../errors/index.js'
import { checkRegion, Word, type Role } from './layout.js'
import { nativeByteOps } from './native.js'
import { ringsFor, type ByteOps } from './ring.js'
import { SpinPolicy } from './spin-policy.js'

/** How one side wakes the other, and learns that the other is gone. */
export interface Doorbell {
  /** Wakes the other side (it re-checks both rings and the state words). */
  ring(): void
  /** Calls `onWake` now and after every wake; `onGone` when the other side disappears. */
  start(onWake: () => void, onGone: (error?: Error) => void): void
  close(): void
}

export interface ShmChannelOptions {
  role: Role
  buffer: ArrayBufferLike
  doorbell: Doorbell
  /** Largest message sent or reassembled. Default 16 MiB plus room for the envelope. */
  maxMessageBytes?: number
  /** How long a send may wait for ring space before failing with CHANNEL_FULL. Default 30 s. */
  sendTimeoutMs?: number
  /** Bytes that may wait for ring space; sends beyond fail at once with CHANNEL_FULL. Default 64 MiB. */
  maxQueuedBytes?: number
  /**
   * Poll for the answer up to this long (µs) after a send. Default: DEFAULT_HOST_SPIN_MICROS for
   * the host, 0 (sleep on the doorbell at once) for the plugin; larger: the low-latency mode.
   */
  spinMicros?: number
  /** How bytes are copied in and out of the region; default: native.ts's memcpy when the addon is built. */
  bytes?: ByteOps
}

interface Queued {
  bytes: Uint8Array
  resolve(): void
  reject(error: PolyplugError): void
  timer: ReturnType<typeof setTimeout> | undefined
}

const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024 + 64 * 1024
/**
 * The host's poll after a send when the manifest sets no spinMicros: long enough for a plugin
 * that is awake to answer a small call (a C plugin answers in 1–3 µs here), short enough that a
 * miss costs less than the wake-up it tried to save.
 */
export const DEFAULT_HOST_SPIN_MICROS = 20
/** Longest stretch of back-to-back spins before the event loop gets a turn. */
const SPIN_BUDGET_MS = 2

function joinParts(parts: unknown[]): unknown {
  if (parts.length === 1 && parts[0] instanceof Uint8Array) return parts[0]
  for (const part of parts) if (!(part instanceof Uint8Array)) return parts
  return Buffer.concat(parts as Uint8Array[])
}

/** A channel over a shared region; throws SHM_CORRUPT at once when the header is wrong. */
export function shmChannel(options: ShmChannelOptions): Channel {
  const capacity = checkRegion(options.buffer)
  const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
  const sendTimeout = options.sendTimeoutMs ?? 30_000
  const maxQueued = options.maxQueuedBytes ?? 64 * 1024 * 1024
  const { writer, reader } = ringsFor(options.role, options.buffer, capacity, { maxMessageBytes: maxMessage, bytes: options.bytes ?? nativeByteOps() })
  const words = new Int32Array(options.buffer, 0, 8)
  const myState = options.role === 'host' ? Word.hostState : Word.pluginState
  const theirState = options.role === 'host' ? Word.pluginState : Word.hostState
  const bell = options.doorbell
  const queue: Queued[] = []
  let queuedBytes = 0
  let sink: ChannelSink | undefined
  let done = false
  const policy = new SpinPolicy(options.spinMicros ?? (options.role === 'host' ? DEFAULT_HOST_SPIN_MICROS : 0))
  /** The poll the queued spin will run, ms. */
  let spinMs = 0
  let spinQueued = false
  /** When spinning started since the event loop last turned (undefined: it has turned since). */
  let turnAt: number | undefined

  function end(error?: Error): void {
    if (done) return
    done = true
    bell.close()
    rejectQueued(new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'shm channel closed', { cause: error }))
    sink?.closed(error)
  }

  function rejectQueued(error: PolyplugError): void {
    for (const item of queue.splice(0)) {
      clearTimeout(item.timer)
      item.reject(error)
    }
    queuedBytes = 0
  }

  /** Writes queued messages while they fit; wakes the reader if it sleeps. */
  function flush(): void {
    while (queue.length > 0) {
      const item = queue[0]!
      if (!writer.busy) writer.begin(item.bytes)
      const finished = writer.pump()
      if (writer.takeConsumerWaiting()) bell.ring()
      if (!finished) return
      queue.shift()
      queuedBytes -= item.bytes.byteLength
      clearTimeout(item.timer)
      item.resolve()
    }
  }

  /** One wake: read everything, write what fits, then arm both wait flags or go round again. */
  function pump(): void {
    try {
      for (let rounds = 0; !done; rounds++) {
        for (let message = reader.read(); message !== undefined && !done; message = reader.read()) sink?.message(message)
        if (done) return
        if (reader.takeProducerWaiting()) bell.ring()
        flush()
        if (Atomics.load(words, theirState) !== 0 && !reader.readable) return end()
        const readerSleeps = reader.prepareSleep()
        const writerSleeps = !writer.busy || writer.prepareSleep()
        if (readerSleeps && writerSleeps) return
        // Hand the event loop back now and then under a constant stream; the doorbell fires again.
        if (rounds > 64) return void setImmediate(pump)
      }
    } catch (error) {
      end(toPolyplugError(error))
    }
  }

  /**
   * Runs on the microtask after a send: the caller has its promise set up by then, and nothing
   * else runs before the reply is seen. Our wait flag is clear (pollAfterSend cleared it, and
   * again here in case a doorbell's pump set it since), so the other side need not ring; `pump`
   * sets it again (Dekker-style) when we give up and sleep.
   */
  function spin(): void {
    spinQueued = false
    if (done) return
    reader.clearWaiting()
    const until = performance.now() + spinMs
    let seen = reader.readable
    while (!seen && Atomics.load(words, theirState) === 0 && performance.now() < until) {
      // poll: the other side publishes tail with a release store; readable loads it with acquire
      seen = reader.readable
    }
    if (seen) policy.caught()
    else policy.missed()
    pump()
  }

  /**
   * Called just before a send publishes its message: when SpinPolicy says to poll, clears our wait
   * flag now, so that even an answer that comes back before the poll starts needs no doorbell,
   * and queues the poll (which always ends in `pump`, so no wake is lost with the flag clear).
   * Spins chain through microtasks (reply, next request, reply...), which would starve this
   * thread's timers and I/O under a steady stream of calls: once SPIN_BUDGET_MS has gone by
   * without an event-loop turn, the next spin waits for one (setImmediate: the loop runs its
   * timers and polls I/O without blocking, then we spin).
   */
  function pollAfterSend(): void {
    if (spinQueued) return
    const micros = policy.next()
    if (micros <= 0) return
    spinMs = micros / 1000
    spinQueued = true
    reader.clearWaiting()
    const now = performance.now()
    if (turnAt === undefined) {
      turnAt = now
      setImmediate(() => {
        turnAt = undefined
      })
    } else if (now - turnAt > SPIN_BUDGET_MS) return void setImmediate(spin)
    queueMicrotask(spin)
  }

  /** Writes what fits, then asks the reader to wake us when it frees space (re-checking, Dekker-style). */
  function arm(): void {
    for (;;) {
      flush()
      if (!writer.busy || writer.prepareSleep()) return
    }
  }

  function expire(item: Queued): void {
    const at = queue.indexOf(item)
    if (at < 0) return
    const error = new PolyplugError(ErrorCodes.CHANNEL_FULL, `shm ring stayed full for ${sendTimeout} ms`, { data: { queuedBytes } })
    if (at === 0 && writer.busy && !writer.abandon()) {
      // Part of this message is in the ring already: the stream cannot resume coherently.
      item.reject(error)
      queue.shift()
      return end(error)
    }
    queue.splice(at, 1)
    queuedBytes -= item.bytes.byteLength
    item.reject(error)
  }

  return normalizeChannel({
    carries: 'bytes',
    binary: true,
    open(s) {
      sink = s
      bell.start(pump, (error) => {
        // The other side is gone: deliver what it completed, and report a ring it left corrupt.
        if (!done) pump()
        end(error)
      })
    },
    send(parts) {
      // A message in parts (attachments) is joined here: the ring takes one record. One part (a
      // message without attachments) goes as it is: no copy.
      const message = Array.isArray(parts) ? joinParts(parts) : parts
      if (!(message instanceof Uint8Array)) throw new PolyplugError(ErrorCodes.INVALID_PARAMS, 'shm channels carry Uint8Array messages')
      if (message.byteLength > maxMessage) {
        throw new PolyplugError(ErrorCodes.FRAME_TOO_LARGE, `message of ${message.byteLength} bytes exceeds the ${maxMessage} byte limit`)
      }
      if (queue.length === 0 && !writer.busy) {
        writer.begin(message)
        pollAfterSend()
        let finished: boolean
        try {
          finished = writer.pump()
        } catch (error) {
          end(toPolyplugError(error))
          throw error
        }
        if (writer.takeConsumerWaiting()) bell.ring()
        if (finished) return
        writer.abandon() // re-begun by flush, from where it stopped if it started
      }
      if (queuedBytes + message.byteLength > maxQueued && queue.length > 0) {
        throw new PolyplugError(ErrorCodes.CHANNEL_FULL, `shm send queue holds ${queuedBytes} bytes; the reader is not keeping up`)
      }
      return new Promise<void>((resolve, reject) => {
        const item: Queued = { bytes: message, resolve, reject, timer: undefined }
        item.timer = setTimeout(() => expire(item), sendTimeout)
        queue.push(item)
        queuedBytes += message.byteLength
        try {
          arm()
        } catch (error) {
          end(toPolyplugError(error))
        }
      })
    },
    close() {
      // Tell the other side (state word, then one last ring), then end like any other close.
      Atomics.store(words, myState, 1)
      bell.ring()
      end()
    },
  })
}
