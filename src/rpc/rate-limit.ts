/**
 * A budget for reactions to bad input (answers, log lines): the first `burst` in each interval go
 * through; the rest are only counted, and reported once as a summary when their interval ends.
 * A peer that floods garbage then costs a bounded number of answers and log lines per second.
 */
export class RateLimit {
  readonly #burst: number
  readonly #intervalMs: number
  readonly #onSummary: (suppressed: number) => void
  #windowStart = -Infinity
  #used = 0
  #suppressed = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(burst: number, intervalMs: number, onSummary: (suppressed: number) => void) {
    this.#burst = burst
    this.#intervalMs = intervalMs
    this.#onSummary = onSummary
  }

  /** True when this event may be acted on; false when it is only counted. */
  allow(): boolean {
    const now = Date.now()
    if (now - this.#windowStart >= this.#intervalMs) {
      this.#flush()
      this.#windowStart = now
      this.#used = 0
    }
    if (this.#used < this.#burst) {
      this.#used++
      return true
    }
    this.#suppressed++
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), Math.max(0, this.#windowStart + this.#intervalMs - now))
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
    return false
  }

  /** Reports what is still counted, e.g. when the channel closes. */
  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const suppressed = this.#suppressed
    this.#suppressed = 0
    if (suppressed > 0) this.#onSummary(suppressed)
  }

  dispose(): void {
    this.#flush()
  }
}
