/**
 * One single-producer/single-consumer ring of length-prefixed records in a shared region
 * (docs/shm.md). Pure: no Node imports, works over a SharedArrayBuffer or any ArrayBuffer
 * (an mmap'd file exposed by the native addon). Every violation of the layout by the other side
 * becomes a PolyplugError with code SHM_CORRUPT; nothing else escapes.
 */
import { PolyplugError } from '../../rpc/errors.js'
import { ErrorCodes } from '../../errors/index.js'
import { corrupt, Ctl, HEADER_SIZE, RING_A, RING_B, type Role } from './layout.js'

export const MORE = 0x80000000
export const WRAP = 0x40000000
const LENGTH_MASK = 0x3fffffff

const align4 = (n: number) => (n + 3) & ~3

/**
 * How bytes move in and out of the ring. The default is plain typed-array `set`, which V8 runs
 * byte by byte with relaxed atomics when either side is a SharedArrayBuffer (about 40x slower
 * than memcpy); native.ts supplies a memcpy and an allocation that skips zeroing when the addon
 * is built.
 */
export interface ByteOps {
  copy(dst: Uint8Array, offset: number, src: Uint8Array): void
  /** A buffer for a message read out of the ring; every byte of it is overwritten. */
  alloc(size: number): Uint8Array
}

export const plainByteOps: ByteOps = {
  copy: (dst, offset, src) => dst.set(src, offset),
  alloc: (size) => new Uint8Array(size),
}

function tooLarge(size: number, max: number): PolyplugError {
  return new PolyplugError(ErrorCodes.FRAME_TOO_LARGE, `shm message of ${size} bytes exceeds the ${max} byte limit`)
}

/** Shared by reader and writer: where the ring lives in the region. */
class RingBase {
  protected readonly words: Int32Array
  protected readonly bytes: Uint8Array
  /** Word index of the control block and byte offset of the data area. */
  protected readonly ctl: number
  protected readonly data: number
  readonly capacity: number
  protected readonly mask: number
  /** Largest record (word + payload + padding): half the ring, so one always fits eventually. */
  protected readonly maxRecord: number

  protected readonly ops: ByteOps

  constructor(buffer: ArrayBufferLike, capacity: number, ring: 'A' | 'B', ops: ByteOps = plainByteOps) {
    this.ops = ops
    this.words = new Int32Array(buffer)
    this.bytes = new Uint8Array(buffer)
    this.capacity = capacity
    this.mask = capacity - 1
    this.maxRecord = capacity / 2
    this.ctl = (ring === 'A' ? RING_A : RING_B) / 4
    this.data = HEADER_SIZE + (ring === 'A' ? 0 : capacity)
  }

  protected load(field: number): number {
    return Atomics.load(this.words, this.ctl + field) >>> 0
  }

  protected store(field: number, value: number): void {
    Atomics.store(this.words, this.ctl + field, value | 0)
  }

  /** Bytes in use, checked: the other side may have written anything into the indices. */
  protected used(tail: number, head: number): number {
    if ((tail | head) & 3) throw corrupt(`index not a multiple of 4 (tail ${tail}, head ${head})`)
    const used = (tail - head) >>> 0
    if (used > this.capacity) throw corrupt(`indices out of range: tail ${tail} - head ${head} exceeds capacity ${this.capacity}`, { tail, head })
    return used
  }

  /** Sets this side's wait flag and reports whether it may sleep (Dekker: flag first, then re-check). */
  protected prepareWait(flag: number, stillBlocked: () => boolean): boolean {
    this.store(flag, 1)
    if (stillBlocked()) return true
    Atomics.exchange(this.words, this.ctl + flag, 0)
    return false
  }
}

/** The producer end. Keeps one message in progress so a large message can be written in parts. */
export class RingWriter extends RingBase {
  #message: Uint8Array | undefined
  #offset = 0
  #seenHead = 0

  /** True while a message is partly written; more calls to `pump` are needed once space frees. */
  get busy(): boolean {
    return this.#message !== undefined
  }

  /** Starts a message; `pump` writes it. Only one message at a time. */
  begin(message: Uint8Array): void {
    if (this.#message) throw new PolyplugError(ErrorCodes.INTERNAL_ERROR, 'ring writer is busy with another message')
    this.#message = message
    this.#offset = 0
  }

  /** Bytes of the current message still to write. */
  get remaining(): number {
    return this.#message ? this.#message.byteLength - this.#offset : 0
  }

  /**
   * Writes as much of the current message as fits, publishing `tail` once. Returns true when the
   * message is fully written. A message that fits one record waits for room for the whole record
   * (so the reader can see it in one piece); larger ones go out in fragments as space frees.
   */
  pump(): boolean {
    const message = this.#message
    if (!message) return true
    const startTail = this.load(Ctl.tail)
    let tail = startTail
    const head = this.load(Ctl.head)
    this.#seenHead = head
    const minFragment = Math.min(4096, this.maxRecord - 4)
    for (;;) {
      const free = this.capacity - this.used(tail, head)
      const pos = tail & this.mask
      const toEnd = this.capacity - pos
      const remaining = message.byteLength - this.#offset
      const whole = 4 + align4(remaining) <= this.maxRecord
      let length: number
      let prefix = 0
      if (whole) {
        const need = 4 + align4(remaining)
        if (need > toEnd) {
          if (toEnd + need > free) break
          tail = this.#wrap(tail, pos, toEnd)
          continue
        }
        if (need > free) break
        length = remaining
      } else {
        // The first fragment starts with the message's total length, so the reader allocates once.
        prefix = this.#offset === 0 ? 4 : 0
        const room = Math.min(free, toEnd) - 4 - prefix
        if (room < minFragment) {
          // Too little contiguous room: skip to the start if that helps, else wait for the reader.
          if (toEnd < free && toEnd - 4 < minFragment) {
            tail = this.#wrap(tail, pos, toEnd)
            continue
          }
          break
        }
        length = Math.min(remaining, room & ~3, this.maxRecord - 4 - prefix)
      }
      const last = length === remaining
      const at = this.data + pos
      this.words[at >> 2] = ((length + prefix) | (last ? 0 : MORE)) | 0
      if (prefix) this.words[(at + 4) >> 2] = message.byteLength
      // A message in one record (every small call) is copied as it is: no view to make.
      this.ops.copy(this.bytes, at + 4 + prefix, length === message.byteLength ? message : message.subarray(this.#offset, this.#offset + length))
      this.#offset += length
      tail = (tail + 4 + align4(length + prefix)) >>> 0
      if (last) {
        this.#message = undefined
        break
      }
    }
    if (tail !== startTail) this.store(Ctl.tail, tail) // release: the records are visible before tail
    return this.#message === undefined
  }

  #wrap(tail: number, pos: number, toEnd: number): number {
    this.words[(this.data + pos) >> 2] = WRAP
    return (tail + toEnd) >>> 0
  }

  /** Drops a message not yet started (nothing of it is in the ring). Returns false if it is partly written. */
  abandon(): boolean {
    if (this.#message && this.#offset > 0) return false
    this.#message = undefined
    return true
  }

  /**
   * After publishing: true when the consumer sleeps and must be woken (clears its flag). The flag
   * is loaded first and exchanged only when set: it shares a cache line with `head`, which the
   * consumer writes after every record, and an exchange per send would take that line from it each
   * time. The load is enough for the Dekker handshake: it follows the sequentially consistent
   * store of `tail`, and a consumer that sets its flag after this load re-checks `tail` after
   * setting it (prepareSleep), so it sees the record and does not sleep.
   */
  takeConsumerWaiting(): boolean {
    return Atomics.load(this.words, this.ctl + Ctl.consumerWaiting) !== 0 && Atomics.exchange(this.words, this.ctl + Ctl.consumerWaiting, 0) !== 0
  }

  /** Before sleeping on a full ring: true when the producer may sleep (still no room). */
  prepareSleep(): boolean {
    // pump made no progress at the head it last saw; only a moved head can change that.
    return this.prepareWait(Ctl.producerWaiting, () => this.busy && this.load(Ctl.head) === this.#seenHead)
  }

  clearWaiting(): void {
    Atomics.exchange(this.words, this.ctl + Ctl.producerWaiting, 0)
  }
}

export interface ReadOptions {
  /** Largest reassembled message; larger ones throw FRAME_TOO_LARGE. */
  maxMessageBytes: number
  /** Copy and allocation; default plainByteOps. */
  bytes?: ByteOps
}

/** The consumer end. Reassembles fragments; validates every word it reads. */
export class RingReader extends RingBase {
  /** The fragmented message being reassembled, allocated once at its announced size. */
  #assembly: Uint8Array | undefined
  #filled = 0
  /** Head to publish on the next call after a borrowed (in-place) read. */
  #pendingHead: number | undefined
  readonly #maxMessage: number

  constructor(buffer: ArrayBufferLike, capacity: number, ring: 'A' | 'B', options: ReadOptions) {
    super(buffer, capacity, ring, options.bytes)
    this.#maxMessage = options.maxMessageBytes
  }

  /** True when records are waiting. */
  get readable(): boolean {
    this.#release()
    return this.load(Ctl.tail) !== this.load(Ctl.head)
  }

  /**
   * Returns the next complete message, or undefined when none is complete yet (fragments read so
   * far are kept, and their space released to the producer). With `borrow`, a single-record
   * message is returned as a view into the ring, valid only until the next call: no copy at all.
   */
  read(borrow = false): Uint8Array | undefined {
    this.#release()
    const startHead = this.load(Ctl.head)
    let head = startHead
    const tail = this.load(Ctl.tail) // acquire: the records up to tail are complete
    try {
      while (head !== tail) {
        const used = this.used(tail, head)
        const pos = head & this.mask
        const toEnd = this.capacity - pos
        const word = this.words[(this.data + pos) >> 2]! >>> 0
        if (word & WRAP) {
          if (word !== WRAP) throw corrupt(`wrap marker with extra bits 0x${word.toString(16)}`)
          if (toEnd > used) throw corrupt('wrap marker past the tail')
          head = (head + toEnd) >>> 0
          continue
        }
        const length = word & LENGTH_MASK
        const record = 4 + align4(length)
        if (record > this.maxRecord || record > toEnd || record > used) {
          throw corrupt(`record of ${length} bytes at ${pos} does not fit (used ${used}, to end ${toEnd})`, { length, pos })
        }
        const start = this.data + pos + 4
        const more = (word & MORE) !== 0
        const next = (head + record) >>> 0
        if (!this.#assembly) {
          if (!more) {
            if (length > this.#maxMessage) throw tooLarge(length, this.#maxMessage)
            if (borrow) {
              this.#pendingHead = next
              return this.bytes.subarray(start, start + length)
            }
            head = next
            const out = this.ops.alloc(length)
            this.ops.copy(out, 0, this.bytes.subarray(start, start + length))
            return out
          }
          this.#begin(start, length)
        } else {
          if (this.#filled + length > this.#assembly.byteLength) throw corrupt(`fragments exceed the announced ${this.#assembly.byteLength} bytes`)
          this.ops.copy(this.#assembly, this.#filled, this.bytes.subarray(start, start + length))
          this.#filled += length
        }
        head = next
        if (!more) return this.#finish()
      }
      return undefined
    } finally {
      // Published only when it moved: the read that finds the ring empty writes nothing shared.
      if (this.#pendingHead === undefined && head !== startHead) this.store(Ctl.head, head)
    }
  }

  #release(): void {
    if (this.#pendingHead === undefined) return
    this.store(Ctl.head, this.#pendingHead)
    this.#pendingHead = undefined
  }

  /** First fragment: u32 total length, then the first bytes of the message. */
  #begin(start: number, length: number): void {
    if (length < 4) throw corrupt(`first fragment of ${length} bytes has no total length`)
    const total = this.words[start >> 2]! >>> 0
    if (total > this.#maxMessage) throw tooLarge(total, this.#maxMessage)
    if (total < length - 4) throw corrupt(`first fragment of ${length - 4} bytes exceeds its message of ${total}`)
    this.#assembly = this.ops.alloc(total)
    this.ops.copy(this.#assembly, 0, this.bytes.subarray(start + 4, start + length))
    this.#filled = length - 4
  }

  #finish(): Uint8Array {
    const out = this.#assembly as Uint8Array
    this.#assembly = undefined
    if (this.#filled !== out.byteLength) throw corrupt(`message ended after ${this.#filled} of its ${out.byteLength} bytes`)
    return out
  }

  /** After freeing space: true when the producer sleeps on a full ring and must be woken (load first, as takeConsumerWaiting). */
  takeProducerWaiting(): boolean {
    return Atomics.load(this.words, this.ctl + Ctl.producerWaiting) !== 0 && Atomics.exchange(this.words, this.ctl + Ctl.producerWaiting, 0) !== 0
  }

  /** Before sleeping: true when the consumer may sleep (the ring is still empty). */
  prepareSleep(): boolean {
    return this.prepareWait(Ctl.consumerWaiting, () => this.load(Ctl.tail) === this.load(Ctl.head))
  }

  clearWaiting(): void {
    Atomics.exchange(this.words, this.ctl + Ctl.consumerWaiting, 0)
  }
}

/** The rings one side of the region uses: it writes one and reads the other. */
export function ringsFor(role: Role, buffer: ArrayBufferLike, capacity: number, options: ReadOptions): { writer: RingWriter; reader: RingReader } {
  return role === 'host'
    ? { writer: new RingWriter(buffer, capacity, 'A', options.bytes), reader: new RingReader(buffer, capacity, 'B', options) }
    : { writer: new RingWriter(buffer, capacity, 'B', options.bytes), reader: new RingReader(buffer, capacity, 'A', options) }
}
