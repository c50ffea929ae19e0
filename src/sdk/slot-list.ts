/**
 * The waiting calls of one plugin, for a walk now and then (a deadline sweep, a shutdown): each
 * call keeps its own place in an array, so that adding one is a push and removing one moves the
 * last into its place. A `Set` hashes every call in and out and rehashes its table as the number
 * waiting swings: with 256 native calls in flight, two Sets cost ≈ 700 instructions a call
 * (callgrind), more than the rest of the host's bookkeeping for it.
 */

/** An item of a SlotList: its place there, -1 while it is in none. */
export interface Slotted {
  slot: number
}

export class SlotList<T extends Slotted> {
  readonly #items: T[] = []

  get size(): number {
    return this.#items.length
  }

  add(item: T): void {
    item.slot = this.#items.length
    this.#items.push(item)
  }

  /** Removes `item` if it is here (once: a second delete does nothing). */
  delete(item: T): void {
    const at = item.slot
    if (at < 0 || this.#items[at] !== item) return
    const last = this.#items.pop()!
    if (last !== item) {
      this.#items[at] = last
      last.slot = at
    }
    item.slot = -1
  }

  /** The items now, as an array of their own: what `each` does to one may remove others. */
  snapshot(): T[] {
    return this.#items.slice()
  }
}
