/**
 * A Channel over a pair of Node byte streams (a child's stdio, FIFOs, a socket), framed by
 * src/framing. It carries `bytes`: the Peer encodes (JSON or MessagePack), this layer frames.
 * A framing error (oversized, malformed, truncated) closes this one channel with that error;
 * nothing is thrown out of a stream event.
 */
import type { Readable, Writable } from 'node:stream'
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel } from '../channels/channel.js'
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder, frameTooLarge, isBinarySafe, type FramingName } from '../framing/framing.js'
import { DEFAULT_FRAME_READ_TIMEOUT_MS, FrameStallTimer } from '../framing/stall.js'
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { utf8Bytes } from '../rpc/bytes.js'
import { BATCH_BYTES, WriteQueue } from './write-queue.js'
import type { DirectReads } from './direct-reads.js'

export interface StreamChannelOptions {
  framing?: FramingName
  /** Largest frame body accepted or sent. Default 16 MiB. */
  maxFrameBytes?: number
  /** Longest pause inside one frame before the channel closes with FRAME_TIMEOUT; 0 turns it off. Default 10 s. */
  frameTimeoutMs?: number
  /** Called once after the channel closed, e.g. to destroy a socket shared by both directions. */
  onDispose?: () => void
  /** Told the size of each frame that crosses: pipes grow once a large one did (src/transports/buffer-size.ts). */
  onFrameBytes?: (bytes: number) => void
  /** Where the readable was made with `onread: reads.onread`: reads come through it rather than as 'data' (src/transports/direct-reads.ts). */
  reads?: DirectReads
}

export function streamChannel(readable: Readable, writable: Writable, options: StreamChannelOptions = {}): Channel {
  const framing = options.framing ?? 'length'
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const decoder = new FrameDecoder(framing, max)
  let detach = () => {}
  let ended = false
  let stall: FrameStallTimer | undefined
  const queue = new WriteQueue(writable)
  writable.once('close', () => queue.close())
  const release = () => {
    detach()
    stall?.stop()
    queue.close()
    if (!writable.destroyed) writable.end()
    if ((readable as unknown) === writable) {
      // A socket: end() flushes and sends FIN; destroy it anyway if the other side never answers.
      setTimeout(() => readable.destroy(), 2000).unref()
    } else {
      // A reader we stopped listening to must not hold the event loop or a pipe open.
      readable.destroy()
    }
    options.onDispose?.()
  }
  const send = (message: unknown): void | Promise<void> => {
    if (!(message instanceof Uint8Array || isParts(message))) throw new PolyplugError(RpcErrorCodes.INVALID_REQUEST, 'a byte-stream channel sends Uint8Array messages (or arrays of them: one message in parts)')
    // Backpressure: past the writable's high-water mark the send waits in the queue, so a
    // caller that awaits cannot grow the buffer without bound.
    if (framing === 'length' && message instanceof Uint8Array) {
      if (message.byteLength > max) throw frameTooLarge(message.byteLength, max)
      if (options.onFrameBytes) options.onFrameBytes(4 + message.byteLength)
      return queue.sendLengthPrefixed(message)
    }
    const frame = encodeFrame(framing, message, max)
    if (options.onFrameBytes) options.onFrameBytes(frameLength(frame))
    return queue.send(frame)
  }
  const channel = normalizeChannel({
    carries: 'bytes',
    binary: isBinarySafe(framing),
    open(sink) {
      const fail = (error: Error) => {
        if (ended) return
        ended = true
        sink.closed(error)
        release()
      }
      stall = new FrameStallTimer(options.frameTimeoutMs ?? DEFAULT_FRAME_READ_TIMEOUT_MS, fail)
      const onRead = (size: number, cut: () => Uint8Array[]) => {
        options.onFrameBytes?.(decoder.buffered + size)
        let frames: Uint8Array[]
        try {
          frames = cut()
        } catch (error) {
          fail(error as PolyplugError)
          return
        }
        stall?.update(decoder.buffered)
        for (const frame of frames) sink.message(frame)
      }
      const onData = (chunk: Buffer) => onRead(chunk.byteLength, () => decoder.push(chunk))
      const onEnd = () => {
        if (ended) return
        try {
          decoder.end()
        } catch (error) {
          fail(error as PolyplugError)
          return
        }
        ended = true
        sink.closed()
        release()
      }
      const onError = (error: Error) => fail(new PolyplugError(RpcErrorCodes.CHANNEL_CLOSED, `stream error: ${error.message}`, { cause: error }))
      // EPIPE and friends on the write side mean the other end is gone.
      const onWriteError = (error: Error) => onError(error)
      if (options.reads) options.reads.start(decoder, onRead)
      else {
        readable.on('data', onData)
        // A listener does not resume a stream paused on purpose: a connection accepted paused (adopt-reads.ts) that was kept as it is.
        if (readable.readableFlowing === false) readable.resume()
      }
      readable.on('end', onEnd)
      readable.on('close', onEnd)
      readable.on('error', onError)
      writable.on('error', onWriteError)
      detach = () => {
        options.reads?.stop()
        readable.off('data', onData)
        readable.off('end', onEnd)
        readable.off('close', onEnd)
        readable.off('error', onError)
        writable.off('error', onWriteError)
        // Late errors after close (EPIPE while flushing) are expected and must not go uncaught.
        writable.on('error', () => {})
        readable.on('error', () => {})
      }
    },
    send,
    sendText(text) {
      // Small enough for the slab whatever its characters (3 bytes per UTF-16 unit at most): encoded
      // straight into it behind the header. Under 64 KiB, too, so no buffer needs to grow for it.
      if (framing === 'length' && text.length * 3 <= Math.min(max, BATCH_BYTES - 4)) return queue.sendLengthPrefixedText(text)
      return send(utf8Bytes(text))
    },
    close() {
      ended = true
      release()
    },
  })
  return channel
}

function frameLength(parts: readonly Uint8Array[]): number {
  let size = 0
  for (const part of parts) size += part.byteLength
  return size
}

function isParts(message: unknown): message is Uint8Array[] {
  return Array.isArray(message) && message.every((part) => part instanceof Uint8Array)
}
