/**
 * What waits for an answer, by request id: the Peer's calls awaiting their answers (peer.ts), the
 * http server's POSTs under the ids they carried (../transports/http-server.ts). The first entry
 * lives in a slot of its own and the rest in a Map, so at one call in flight no Map entry is made
 * and deleted per call: in V8, deleting a Map's last entry reallocates its table (~150 bytes a
 * time, measured with the heap sampler). An id is in one place at most.
 */
import type { RequestId } from './wire.js'

export class WaitingById<T> {
  #id: RequestId | undefined
  #first: T | undefined
  readonly #rest = new Map<RequestId, T>()

  get size(): number {
    return (this.#first === undefined ? 0 : 1) + this.#rest.size
  }

  get(id: RequestId): T | undefined {
    if (this.#first !== undefined && this.#id === id) return this.#first
    return this.#rest.size === 0 ? undefined : this.#rest.get(id)
  }

  /** Files `value` under `id`, replacing what waited there. */
  set(id: RequestId, value: T): void {
    if (this.#first !== undefined && this.#id === id) {
      this.#first = value
    } else if (this.#rest.size > 0 && this.#rest.has(id)) {
      this.#rest.set(id, value)
    } else if (this.#first === undefined) {
      this.#id = id
      this.#first = value
    } else {
      this.#rest.set(id, value)
    }
  }

  delete(id: RequestId): void {
    if (this.#first !== undefined && this.#id === id) {
      this.#first = undefined
      this.#id = undefined
    } else if (this.#rest.size > 0) {
      this.#rest.delete(id)
    }
  }

  /** Every id waiting, the slot's first. */
  ids(): RequestId[] {
    return this.#first === undefined ? [...this.#rest.keys()] : [this.#id!, ...this.#rest.keys()]
  }

  clear(): void {
    this.#first = undefined
    this.#id = undefined
    this.#rest.clear()
  }
}
