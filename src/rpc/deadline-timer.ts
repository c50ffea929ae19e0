/**
 * One timer for the deadlines of many waiting calls, armed for the earliest: a timer per call
 * costs more than a short call. Where timers can be unref'd (Node), it keeps the process alive
 * only while something waits, as a timer per call would; an idle owner never holds the process
 * open. The Peer's outgoing calls and the direct invoker's running calls each have one.
 */
export class DeadlineTimer {
  #timer: ReturnType<typeof setTimeout> | undefined
  #at = Infinity
  #held = false
  readonly #fire = () => {
    this.#timer = undefined
    this.#at = Infinity
    this.onDue()
  }

  /** `onDue` times out what is past its deadline and `add`s the next deadline, if any. */
  constructor(readonly onDue: () => void) {}

  /** A call waits until `at` (ms since the epoch; Infinity for no deadline). */
  add(at: number): void {
    if (at < this.#at) {
      this.#held = true
      if (this.#timer !== undefined) clearTimeout(this.#timer)
      this.#at = at
      this.#timer = setTimeout(this.#fire, Math.max(0, at - Date.now()))
    } else if (!this.#held) this.#hold(true)
  }

  /** Nothing waits any more: the timer may stay armed, but it no longer holds the process. */
  idle(): void {
    if (this.#held) this.#hold(false)
  }

  /** The owner closed. */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#at = Infinity
  }

  #hold(hold: boolean): void {
    this.#held = hold
    const timer = this.#timer as { ref?: () => void; unref?: () => void } | undefined
    if (hold) timer?.ref?.()
    else timer?.unref?.()
  }
}
