/**
 * The outgoing side of a byte-stream channel under backpressure. While the writable is below its
 * high-water mark a frame is written at once; after that, frames wait here, in order, and are
 * written as the writable drains. Each costs O(1): one `drain` listener serves the whole queue,
 * and the writable's own buffer stays near its high-water mark however many frames wait.
 *
 * A send that had to wait resolves once its frame was handed to the writable. When the channel
 * closes, waiting frames are dropped and their sends resolve in batches, so releasing a queue of
 * 100,000 frames from a plugin that stopped reading never blocks the event loop.
 */
import type { Writable } from 'node:stream'

/** Waiting sends resolved per event-loop turn once the channel closed. */
export const RELEASE_BATCH = 2048

interface Waiting {
  frame: Uint8Array[]
  resolve: () => void
}

export class WriteQueue {
  readonly #writable: Writable
  readonly #write: (frame: Uint8Array[]) => boolean
  #waiting: Waiting[] = []
  #head = 0
  #full = false
  #open = true
  readonly #onDrain = () => this.#flush()

  /** `write` hands one frame to `writable` and returns what `writable.write` returned. */
  constructor(writable: Writable, write: (frame: Uint8Array[]) => boolean) {
    this.#writable = writable
    this.#write = write
    writable.on('drain', this.#onDrain)
  }

  /** Frames waiting for the writable to drain. */
  get length(): number {
    return this.#waiting.length - this.#head
  }

  send(frame: Uint8Array[]): void | Promise<void> {
    if (!this.#open) return
    if (!this.#full && this.length === 0) {
      if (!this.#write(frame)) this.#full = true
      return
    }
    return new Promise<void>((resolve) => this.#waiting.push({ frame, resolve }))
  }

  /** Drops the frames still waiting; their sends resolve (the channel's close tells why they went nowhere). */
  close(): void {
    if (!this.#open) return
    this.#open = false
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

  #flush(): void {
    this.#full = false
    while (this.#open && !this.#full && this.length > 0) {
      const next = this.#waiting[this.#head] as Waiting
      this.#waiting[this.#head++] = undefined as unknown as Waiting
      if (!this.#write(next.frame)) this.#full = true
      next.resolve()
    }
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head)
      this.#head = 0
    }
  }
}
