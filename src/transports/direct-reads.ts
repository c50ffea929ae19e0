/**
 * Reads of a socket that polyplug creates itself (a FIFO's fd, a plugin's connection) into memory
 * the channel hands out, through Node's `onread` option, instead of a fresh 64 KiB Buffer per read
 * pushed through the stream's 'data' events. The gain is for large frames: once a frame's header
 * is known, each read lands straight in the frame's body (FrameDecoder.readTarget), so a 1 MiB
 * frame is neither copied out of 16 read buffers nor joined after, the kernel reads as much of it
 * as the pipe or socket holds at once (a read asks for the rest of the body, not 64 KiB), and no
 * 64 KiB buffers are left for the collector. Any other read goes into one reused scratch buffer
 * and is copied out at its length (a small frame's bytes, pooled by Buffer.allocUnsafe below
 * 4 KiB), so no read keeps 64 KiB alive behind a small frame.
 *
 * Until the channel starts reading, what arrives is kept, in order, and given to it then.
 */
import type { FrameDecoder } from '../framing/framing.js'

/** Bytes per read outside a large frame: libuv's own read size for streams. */
export const SCRATCH_BYTES = 64 * 1024

/** Told of each read: its size, and how to turn it into the frames it completed. */
export type ReadSink = (size: number, frames: () => Uint8Array[]) => void

/** Node's `onread` option (net.Socket, net.connect). */
export interface OnRead {
  buffer: () => Uint8Array
  callback: (bytesRead: number, buffer: Uint8Array) => boolean
}

export class DirectReads {
  readonly #scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES)
  #decoder: FrameDecoder | undefined
  #sink: ReadSink | undefined
  /** Reads that arrived before `start`, copied. */
  #early: Uint8Array[] = []
  #stopped = false

  /** The option to construct the socket with. */
  readonly onread: OnRead = {
    buffer: () => this.#decoder?.readTarget() ?? this.#scratch,
    callback: (bytesRead, buffer) => {
      this.#read(bytesRead, buffer)
      return true
    },
  }

  /** The channel reads from now on: frames are cut by `decoder`, each read is told to `sink`. */
  start(decoder: FrameDecoder, sink: ReadSink): void {
    this.#decoder = decoder
    this.#sink = sink
    const early = this.#early
    this.#early = []
    for (const bytes of early) sink(bytes.byteLength, () => decoder.push(bytes))
  }

  /** The channel stopped reading: later reads are dropped. */
  stop(): void {
    this.#stopped = true
    this.#early = []
    this.#sink = undefined
    this.#decoder = undefined
  }

  #read(size: number, buffer: Uint8Array): void {
    if (this.#stopped) return
    const decoder = this.#decoder
    const sink = this.#sink
    if (buffer !== this.#scratch) {
      // Read in place into the target the decoder gave.
      if (decoder && sink) sink(size, () => decoder.filled(size))
      return
    }
    const bytes = Buffer.allocUnsafe(size)
    bytes.set(this.#scratch.subarray(0, size))
    if (!decoder || !sink) {
      this.#early.push(bytes)
      return
    }
    sink(size, () => decoder.push(bytes))
  }
}
