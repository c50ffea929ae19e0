/**
 * How long one side polls the inbound ring after a send before it sleeps on the doorbell
 * (docs/shm.md, "Waiting for the answer"). A poll that sees the answer saves a doorbell write, a
 * wake-up and an event-loop turn; a poll that misses costs its whole budget of this thread's time
 * for nothing. So the budget follows the answers: after MISSES_TOLERATED misses in a row the next
 * poll is skipped, after each further miss twice as many (up to MAX_SKIP sends), and one catch
 * restores polling after every send. A plugin that answers slowly (a long method, a send that
 * expects no answer) then costs about `maxMicros / MAX_SKIP` per send; one that answers fast is
 * polled for every time.
 *
 * Misses are tolerated for a while because they come in runs on a loaded machine: a plugin that
 * slept through the last request (its own spin ran out) needs the doorbell and a wake-up, and the
 * poll that catches its answer is what puts both sides back in step (the plugin, answered and
 * asked again at once, is still spinning). Stopping at the first miss would keep both sides in
 * the slow rhythm of two wake-ups per call (measured: polling skipped on 20 308 of 22 000 calls
 * after 233 misses, every call sleeping). Pure: no clock, no Node imports.
 */

/** Misses in a row that still poll after every send. */
export const MISSES_TOLERATED = 8
/** Most sends skipped between two polls once polls keep missing. */
export const MAX_SKIP = 256

export class SpinPolicy {
  #skip = 0
  #backoff = 0
  #misses = 0

  /** `maxMicros`: the longest poll; 0 never polls. */
  constructor(readonly maxMicros: number) {}

  /** µs to poll after this send; 0: go straight to the doorbell. */
  next(): number {
    if (this.maxMicros <= 0) return 0
    if (this.#skip > 0) {
      this.#skip--
      return 0
    }
    return this.maxMicros
  }

  /** The poll saw a message. */
  caught(): void {
    this.#misses = 0
    this.#backoff = 0
  }

  /** The poll ran its whole budget and saw nothing. */
  missed(): void {
    if (++this.#misses < MISSES_TOLERATED) return
    this.#backoff = Math.min(MAX_SKIP, this.#backoff === 0 ? 1 : this.#backoff * 2)
    this.#skip = this.#backoff
  }

  /** Sends still to be skipped (for tests and diagnostics). */
  get skipping(): number {
    return this.#skip
  }
}
