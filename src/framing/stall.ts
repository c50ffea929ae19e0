/**
 * The frame-read timeout: a partial frame whose bytes stop arriving for longer than the limit
 * closes its channel with FRAME_TIMEOUT, instead of being noticed only through some call's
 * deadline (or never, for a channel that carries only notifications). Slow but steady frames
 * are fine: every chunk that arrives restarts the clock.
 */
import { PolyplugError } from '../rpc/errors.js'
import { TransportErrorCodes } from '../errors/transport.js'

/** Default longest pause inside one frame: 10 s. */
export const DEFAULT_FRAME_READ_TIMEOUT_MS = 10_000

export class FrameStallTimer {
  readonly #ms: number
  readonly #onStall: (error: PolyplugError) => void
  #timer: ReturnType<typeof setTimeout> | undefined
  #buffered = 0

  /** `ms` 0 or less turns the timeout off. */
  constructor(ms: number, onStall: (error: PolyplugError) => void) {
    this.#ms = ms
    this.#onStall = onStall
  }

  /** Call after each chunk with the decoder's buffered byte count: arms while a frame is partial. */
  update(buffered: number): void {
    this.#buffered = buffered
    if (this.#ms <= 0) return
    if (buffered === 0) return this.stop()
    if (this.#timer) {
      this.#timer.refresh()
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#onStall(
        new PolyplugError(TransportErrorCodes.FRAME_TIMEOUT, `a partial frame (${this.#buffered} bytes so far) received nothing more for ${this.#ms} ms`, {
          data: { buffered: this.#buffered, timeoutMs: this.#ms },
        }),
      )
    }, this.#ms)
    // Like a socket timeout, a stalled frame alone must not keep the process alive.
    ;(this.#timer as { unref?: () => void }).unref?.()
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
