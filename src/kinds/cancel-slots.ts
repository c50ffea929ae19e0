/**
 * Cancel flags in memory shared by the host and a worker, for a kind whose calls run synchronously
 * on the worker's own thread (native): while such a call runs, the worker reads no messages, so a
 * `$/cancel` posted to it would arrive only after the call. The host raises the flag itself instead.
 *
 * Each slot is one 64-bit word: the upper 32 bits name the request that runs in it (a key derived
 * from its JSON-RPC id), the lower 32 bits are the int32 cancel flag the plugin's code polls. A
 * slot per nesting depth (a synchronous call may serve a nested request while it waits for the
 * host). The host raises the flag of request `id` by one compare-and-swap of the whole word, so a
 * cancel can never land on the next call the slot holds.
 *
 * A cancel may be posted before the worker has started the call (it is still reading the request):
 * the host first notes the key among the last few cancelled ones, then tries the slots; the worker
 * first claims its slot, then looks among the noted keys. With sequentially consistent atomics one
 * of the two sees the other. After a shutdown or a kill every call that starts is cancelled.
 */
import { endianness } from 'node:os'
import type { RequestId } from '../rpc/wire.js'

/** Nesting depths with a slot of their own (a call nested deeper is refused: native-sync.ts). */
export const CANCEL_SLOTS = 16
/** The slots follow the sync bridge's two wake words (placement/worker.ts). */
export const CANCEL_SLOTS_OFFSET = 8
/** Recently cancelled keys the worker checks when a call starts. */
const NOTED = 16
export const CANCEL_SLOTS_BYTES = CANCEL_SLOTS * 8 + NOTED * 4 + 8

/** A nonzero 32-bit key for a request id (ids repeat only after 2^32 calls, long after an answer). */
export function requestKey(id: RequestId): number {
  let h = 0
  if (typeof id === 'number') h = id >>> 0
  else for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) >>> 0
  return h === 0 ? 1 : h
}

const word = (key: number) => BigInt(key) << 32n

export class CancelSlots {
  readonly #words: BigInt64Array
  /** NOTED recently cancelled keys, then the closing word. */
  readonly #noted: Int32Array
  #next = 0
  /** Per depth, the int32 cancel flag as a view the FFI passes by pointer. */
  readonly flags: Int32Array[]

  constructor(buffer: SharedArrayBuffer) {
    this.#words = new BigInt64Array(buffer, CANCEL_SLOTS_OFFSET, CANCEL_SLOTS)
    this.#noted = new Int32Array(buffer, CANCEL_SLOTS_OFFSET + CANCEL_SLOTS * 8, NOTED + 1)
    const low = endianness() === 'LE' ? 0 : 1
    this.flags = Array.from({ length: CANCEL_SLOTS }, (_, depth) => new Int32Array(buffer, CANCEL_SLOTS_OFFSET + depth * 8 + low * 4, 1))
  }

  /** Worker: request `key` starts running at `depth`; cancelled already if the host asked. */
  claim(depth: number, key: number): void {
    Atomics.store(this.#words, depth, word(key))
    let cancelled = Atomics.load(this.#noted, NOTED) !== 0
    for (let i = 0; i < NOTED && !cancelled; i++) cancelled = Atomics.load(this.#noted, i) === (key | 0)
    if (cancelled) Atomics.store(this.#words, depth, word(key) | 1n)
  }

  /** Worker: the call at `depth` has returned. */
  release(depth: number): void {
    Atomics.store(this.#words, depth, 0n)
  }

  /** Host: raises the flag of request `id` if it is running now; a no-op otherwise. */
  raise(id: RequestId): void {
    const key = requestKey(id)
    Atomics.store(this.#noted, this.#next, key | 0)
    this.#next = (this.#next + 1) % NOTED
    const running = word(key)
    for (let depth = 0; depth < CANCEL_SLOTS; depth++) Atomics.compareExchange(this.#words, depth, running, running | 1n)
  }

  /** Host: raises the flag of every call running now, and of every call that starts after (shutdown, kill). */
  raiseAll(): void {
    Atomics.store(this.#noted, NOTED, 1)
    for (let depth = 0; depth < CANCEL_SLOTS; depth++) {
      const word = Atomics.load(this.#words, depth)
      if (word !== 0n) Atomics.compareExchange(this.#words, depth, word, word | 1n)
    }
  }
}
