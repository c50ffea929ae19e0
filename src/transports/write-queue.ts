/**
 * The outgoing side of a byte-stream channel: batching and backpressure.
 *
 * Batching: small frames sent in the same tick (e.g. the answers to every request one chunk
 * brought, or the next call of every caller awaiting one) are gathered and handed to the
 * writable in **one** write — one syscall, one write request — on `process.nextTick`,
 * after the current callback and its microtasks; a batch that reaches BATCH_BYTES is written at
 * once. A frame larger than that goes in a corked write of its parts, so its payload is not
 * copied. Order is kept throughout.
 *
 * A small frame is copied, when it is taken, into a slab of BATCH_BYTES that this queue fills
 * front to back (the way Node's Buffer pool is cut): a batch is the slab's next stretch, written
 * as one view of it; bytes handed to the writable are never written over (the slab is only ever
 * appended to, and a full one is left to the writes that still hold it). So a message costs a
 * copy of its bytes and no allocation of its own; a `length` frame's header is written straight
 * into the slab (`sendLengthPrefixed`).
 *
 * Backpressure: while the writable is below its high-water mark, a frame is taken at once; after
 * that, frames wait here, in order, and are written as the writable drains. Each costs O(1): one
 * `drain` listener serves the whole queue, and the writable's own buffer stays near its
 * high-water mark however many frames wait. A send that had to wait resolves once its frame was
 * handed to the writable. When the channel closes, the batch is written (the last answers of a
 * closing channel still leave), waiting frames are dropped and their sends resolve in batches,
 * so releasing a queue of 100,000 frames from a plugin that stopped reading never blocks the
 * event loop.
 */
import type { Writable } from 'node:stream'
import { encodeFrame, putLength } from '../framing/framing.js'

/** Waiting sends resolved per event-loop turn once the channel closed. */
export const RELEASE_BATCH = 2048
/** Frames are gathered up to this many bytes per write; a larger frame is written in its parts. */
export const BATCH_BYTES = 64 * 1024

/**
 * `slab.write(text, at)`, without the argument sorting `Buffer#write` does before it calls
 * `utf8Write` (offset, length and encoding each checked per call: for a message of a few dozen
 * bytes about as much as the encoding itself). `utf8Write` is on Buffer.prototype in every Node
 * polyplug supports; elsewhere `write` is used.
 */
const writeUtf8: (slab: Buffer, text: string, at: number) => number =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === 'function'
    ? (slab, text, at) => (slab as Buffer & { utf8Write(text: string, offset: number, length: number): number }).utf8Write(text, at, slab.byteLength - at)
    : (slab, text, at) => slab.write(text, at)

interface Waiting {
  frame: Uint8Array[]
  resolve: () => void
}

export class WriteQueue {
  readonly #writable: Writable
  #waiting: Waiting[] = []
  #head = 0
  #full = false
  #open = true
  /** Stretches of earlier slabs that this tick's batch began in (rare: a slab filled up mid-batch). */
  #batch: Uint8Array[] = []
  #batchBytes = 0
  /** The slab small frames are copied into; `#start`..`#end` is this tick's batch in it. */
  #slab: Buffer | undefined
  #start = 0
  #end = 0
  #scheduled = false
  readonly #onDrain = () => this.#flush()
  readonly #onTick = () => {
    this.#scheduled = false
    if (this.#open) this.#writeBatch()
  }

  constructor(writable: Writable) {
    this.#writable = writable
    writable.on('drain', this.#onDrain)
  }

  /** Frames waiting for the writable to drain. */
  get length(): number {
    return this.#waiting.length - this.#head
  }

  send(frame: Uint8Array[]): void | Promise<void> {
    if (!this.#open) return
    if (!this.#full && this.length === 0) {
      this.#take(frame)
      return
    }
    return new Promise<void>((resolve) => this.#waiting.push({ frame, resolve }))
  }

  /**
   * Sends one `length` frame: a 4-byte big-endian length, then `body`. A small frame is written
   * into the slab header and all, with no header array or parts list made for it.
   */
  sendLengthPrefixed(body: Uint8Array): void | Promise<void> {
    const size = body.byteLength
    if (!this.#open || this.#full || this.length > 0 || size + 4 > BATCH_BYTES) return this.send(encodeFrame('length', body, Infinity))
    const slab = this.#room(size + 4)
    const at = this.#end
    putLength(slab, at, size)
    slab.set(body, at + 4)
    this.#end = at + 4 + size
    this.#added(size + 4)
  }

  /**
   * Sends one `length` frame whose body is the UTF-8 of `text`, encoded straight into the slab
   * behind its header: no Buffer is made for the message and nothing is copied twice. The caller
   * keeps `text` small enough that its UTF-8 surely fits a slab (3 bytes per UTF-16 unit at most).
   */
  sendLengthPrefixedText(text: string): void | Promise<void> {
    const most = 4 + text.length * 3
    if (!this.#open || this.#full || this.length > 0 || most > BATCH_BYTES) return this.sendLengthPrefixed(Buffer.from(text, 'utf8'))
    const slab = this.#room(most)
    const at = this.#end
    const size = writeUtf8(slab, text, at + 4)
    putLength(slab, at, size)
    this.#end = at + 4 + size
    this.#added(size + 4)
  }

  /**
   * Writes what this tick gathered, then drops the frames still waiting for a drain; their sends
   * resolve (the channel's close tells why they went nowhere).
   */
  close(): void {
    if (!this.#open) return
    if (!this.#writable.destroyed) this.#writeBatch()
    this.#open = false
    this.#batch = []
    this.#slab = undefined
    this.#writable.off('drain', this.#onDrain)
    const dropped = this.#waiting
    let at = this.#head
    this.#waiting = []
    this.#head = 0
    const release = () => {
      const end = Math.min(at + RELEASE_BATCH, dropped.length)
      for (; at < end; at++) (dropped[at] as Waiting).resolve()
      if (at < dropped.length) setImmediate(release)
    }
    release()
  }

  /** Adds a frame to this tick's batch, or writes it in parts when it is large. */
  #take(frame: Uint8Array[]): void {
    let size = 0
    for (const part of frame) size += part.byteLength
    if (size > BATCH_BYTES) {
      this.#writeBatch()
      const writable = this.#writable
      let ok = true
      writable.cork()
      for (const part of frame) ok = writable.write(part)
      process.nextTick(() => writable.uncork())
      if (!ok) this.#full = true
      return
    }
    // Copied now, as a write would have: the caller may reuse its bytes once `send` returned.
    const slab = this.#room(size)
    let at = this.#end
    for (const part of frame) {
      slab.set(part, at)
      at += part.byteLength
    }
    this.#end = at
    this.#added(size)
  }

  /** The slab, with room for `size` more bytes after this tick's batch (`size` ≤ BATCH_BYTES). */
  #room(size: number): Buffer {
    const slab = this.#slab
    if (slab && this.#end + size <= slab.byteLength) return slab
    // Full: this tick's stretch of it joins the batch as it is, and a fresh slab takes the rest.
    if (slab && this.#end > this.#start) this.#batch.push(slab.subarray(this.#start, this.#end))
    this.#start = this.#end = 0
    return (this.#slab = Buffer.allocUnsafeSlow(BATCH_BYTES))
  }

  /** `size` bytes joined this tick's batch: written now if it reached BATCH_BYTES, else at the end of the tick. */
  #added(size: number): void {
    this.#batchBytes += size
    if (this.#batchBytes >= BATCH_BYTES) this.#writeBatch()
    else if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(this.#onTick)
    }
  }

  #writeBatch(): void {
    if (this.#batchBytes === 0) return
    const slab = this.#slab as Buffer
    let chunk: Uint8Array = slab.subarray(this.#start, this.#end)
    if (this.#batch.length > 0) {
      // The batch began in an earlier slab: one write of a copy still costs less than a syscall per part.
      this.#batch.push(chunk)
      chunk = Buffer.concat(this.#batch, this.#batchBytes)
      this.#batch = []
    }
    this.#start = this.#end
    this.#batchBytes = 0
    if (!this.#writable.write(chunk)) this.#full = true
  }

  #flush(): void {
    this.#full = false
    while (this.#open && !this.#full && this.length > 0) {
      const next = this.#waiting[this.#head] as Waiting
      this.#waiting[this.#head++] = undefined as unknown as Waiting
      this.#take(next.frame)
      next.resolve()
    }
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head)
      this.#head = 0
    }
  }
}

