/**
 * Framing: how whole messages are cut out of a byte stream (pipes, FIFOs, sockets). One layer,
 * shared by every byte-stream transport. Pure: no Node imports, so it runs anywhere.
 *
 * - `length` (default): a 4-byte big-endian unsigned length, then that many bytes. Binary-safe.
 * - `content-length`: LSP-style headers (`Content-Length: N\r\n` ... `\r\n`), then N bytes.
 * - `ndjson`: one message per line, terminated by `\n` (an optional `\r` before it is dropped).
 *
 * The size limit is checked from the header, before any body is buffered, so a hostile
 * 2 GiB length costs nothing. Normative byte layouts: docs/protocol.md.
 */
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { TransportErrorCodes } from '../errors/transport.js'

export type FramingName = 'length' | 'content-length' | 'ndjson'

export const FRAMINGS: readonly FramingName[] = ['length', 'content-length', 'ndjson']

/** Default largest frame body: 16 MiB, the same as the Peer's message limit. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

/** Longest header block accepted for `content-length` framing. */
const MAX_HEADER_BYTES = 8 * 1024

const encoder = new TextEncoder()

/** A frame body at least this large that arrived in several chunks is joined into memory that is not zero-filled first. */
export const UNFILLED_MIN_BYTES = 64 * 1024

type Alloc = (size: number) => Uint8Array
const nodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow?: Alloc } }).Buffer

/**
 * `size` bytes for a frame's chunks to be copied into, every byte of which is written before
 * anyone reads it: for a large frame Node's Buffer.allocUnsafeSlow where there is one (no zero-fill
 * of a MiB about to be overwritten; its own ArrayBuffer, never a pooled one), viewed as a plain
 * Uint8Array like any frame joined from several chunks. The frame goes to its reader and is never
 * reused.
 */
function joinBuffer(size: number): Uint8Array {
  const buffer = size >= UNFILLED_MIN_BYTES ? nodeBuffer?.allocUnsafeSlow?.(size) : undefined
  return buffer ? new Uint8Array(buffer.buffer, buffer.byteOffset, size) : new Uint8Array(size)
}
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function isFramingName(value: unknown): value is FramingName {
  return typeof value === 'string' && (FRAMINGS as readonly string[]).includes(value)
}

/**
 * Framings that carry any byte sequence as a body. `ndjson` does not: a body must be one line of
 * text. A channel over a binary-safe framing is `binary` (src/channels/channel.ts).
 */
export function isBinarySafe(framing: FramingName): boolean {
  return framing !== 'ndjson'
}

/**
 * The bytes to write for one message: a header (possibly empty), the body, and a trailer. The body
 * may come as parts (their concatenation is the body); they are passed on uncopied.
 */
export function encodeFrame(framing: FramingName, body: Uint8Array | readonly Uint8Array[], maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array[] {
  const parts = body instanceof Uint8Array ? [body] : body
  let size = 0
  for (const part of parts) size += part.byteLength
  if (size > maxFrameBytes) throw frameTooLarge(size, maxFrameBytes)
  switch (framing) {
    case 'length': {
      const header = new Uint8Array(4)
      putLength(header, 0, size)
      return parts.length === 1 ? [header, parts[0] as Uint8Array] : [header, ...parts]
    }
    case 'content-length':
      return [encoder.encode(`Content-Length: ${size}\r\n\r\n`), ...parts]
    case 'ndjson':
      // JSON text never holds a raw newline; anything else (MessagePack) cannot be framed by lines.
      if (parts.some((part) => part.includes(0x0a))) throw new PolyplugError(TransportErrorCodes.FRAME_INVALID, 'ndjson framing cannot carry a message containing a newline byte')
      return [...parts, NEWLINE]
  }
}

const NEWLINE = new Uint8Array([0x0a])

/** The error for a frame of `size` bytes over the limit, before anything of it is written. */
export function frameTooLarge(size: number, maxFrameBytes: number): PolyplugError {
  return new PolyplugError(RpcErrorCodes.FRAME_TOO_LARGE, `frame of ${size} bytes exceeds the limit of ${maxFrameBytes}`)
}

/** Writes `size` as the 4-byte big-endian header of a `length` frame at `at` of `target`. */
export function putLength(target: Uint8Array, at: number, size: number): void {
  // Byte by byte: a DataView over `target.buffer` would move a small on-heap array's bytes off V8's heap first.
  target[at] = size >>> 24
  target[at + 1] = (size >>> 16) & 0xff
  target[at + 2] = (size >>> 8) & 0xff
  target[at + 3] = size & 0xff
}

/**
 * Cuts frames out of chunks as they arrive. `push` returns the complete frame bodies found so far
 * (zero, one or many) and throws a PolyplugError (FRAME_TOO_LARGE, FRAME_INVALID) on a stream
 * that cannot be trusted any more; after a throw the decoder refuses further input.
 */
export class FrameDecoder {
  readonly framing: FramingName
  readonly maxFrameBytes: number
  #chunks: Uint8Array[] = []
  /** Bytes of `#chunks[0]` already taken: a frame is cut out without re-slicing what remains. */
  #offset = 0
  #buffered = 0
  /** Body length of the frame being read, once its header is known. */
  #need = -1
  #failed: PolyplugError | undefined
  /** Leading buffered bytes already searched for a newline (ndjson), so long lines scan once. */
  #scanned = 0
  /** A large `length` frame's body being filled in place (`readTarget`), and how many of its bytes arrived. */
  #filling: Uint8Array | undefined
  #got = 0

  constructor(framing: FramingName = 'length', maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    if (!isFramingName(framing)) throw new PolyplugError(TransportErrorCodes.FRAME_INVALID, `unknown framing ${JSON.stringify(framing)}`)
    this.framing = framing
    this.maxFrameBytes = maxFrameBytes
  }

  /** Bytes received but not yet returned as a frame (a partial frame at end of stream is truncated). */
  get buffered(): number {
    return this.#buffered
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw this.#failed
    if (chunk.byteLength === 0) return []
    if (this.#filling) {
      // A body being filled in place takes what belongs to it; the rest starts the next frame.
      const part = chunk.subarray(0, this.#filling.byteLength - this.#got)
      this.#filling.set(part, this.#got)
      const done = this.filled(part.byteLength)
      const rest = chunk.subarray(part.byteLength)
      return rest.byteLength > 0 ? [...done, ...this.push(rest)] : done
    }
    this.#chunks.push(chunk)
    this.#buffered += chunk.byteLength
    const out: Uint8Array[] = []
    try {
      for (;;) {
        const frame = this.framing === 'length' ? this.#nextLength() : this.framing === 'ndjson' ? this.#nextLine() : this.#nextContentLength()
        if (!frame) break
        out.push(frame)
      }
    } catch (error) {
      this.#failed = error as PolyplugError
      this.#chunks = []
      this.#offset = 0
      this.#buffered = 0
      throw error
    }
    return out
  }

  /**
   * Where the next read should land, for a reader that reads into memory it is handed (Node's
   * `onread`): once the header of a `length` frame of UNFILLED_MIN_BYTES or more is known, the
   * rest of that frame's body, so that the kernel copies it straight into the frame and nothing is
   * joined after (the bytes of it already buffered are moved in once, here). Undefined otherwise:
   * the reader reads into memory of its own and `push`es the bytes. Read into the target, report
   * the count with `filled`; never more than its length.
   */
  readTarget(): Uint8Array | undefined {
    if (this.#failed) return undefined
    if (!this.#filling) {
      if (this.framing !== 'length' || this.#need < UNFILLED_MIN_BYTES || this.#buffered >= this.#need) return undefined
      // Every buffered byte is this body's (fewer than it needs arrived).
      const got = this.#buffered
      this.#filling = joinBuffer(this.#need)
      this.#copyInto(this.#filling, got)
      this.#skip(got)
      this.#got = this.#buffered = got
    }
    return this.#filling.subarray(this.#got)
  }

  /** `n` bytes were read into `readTarget()`: returns the frame once its body is complete. */
  filled(n: number): Uint8Array[] {
    const body = this.#filling
    if (!body) throw invalid('filled() without a read target')
    this.#got += n
    this.#buffered += n
    if (this.#got < body.byteLength) return []
    this.#filling = undefined
    this.#got = 0
    this.#buffered = 0
    this.#need = -1
    return [body]
  }

  /** Call at end of stream: throws FRAME_INVALID when a partial frame was left. */
  end(): void {
    if (this.#failed) return
    if (this.#buffered > 0) {
      this.#failed = invalid(`stream ended inside a frame (${this.#buffered} bytes of a partial frame)`)
      throw this.#failed
    }
  }

  #tooLarge(size: number): PolyplugError {
    return new PolyplugError(RpcErrorCodes.FRAME_TOO_LARGE, `incoming frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes}`, { data: { size, limit: this.maxFrameBytes } })
  }

  #nextLength(): Uint8Array | undefined {
    if (this.#need < 0) {
      if (this.#buffered < 4) return undefined
      const first = this.#chunks[0] as Uint8Array
      const header = first.byteLength - this.#offset >= 4 ? first : this.#peek(4)
      const at = header === first ? this.#offset : 0
      const size = (header[at] as number) * 0x1000000 + (((header[at + 1] as number) << 16) | ((header[at + 2] as number) << 8) | (header[at + 3] as number))
      if (size > this.maxFrameBytes) {
        const shown = this.#peek(Math.min(this.#buffered, 4 + STRAY_SHOWN))
        throw isText(shown.subarray(0, 4)) ? strayText(shown) : this.#tooLarge(size)
      }
      this.#skip(4)
      this.#need = size
    }
    return this.#body()
  }

  #body(): Uint8Array | undefined {
    if (this.#buffered < this.#need) return undefined
    const body = this.#take(this.#need)
    this.#need = -1
    return body
  }

  #nextLine(): Uint8Array | undefined {
    const at = this.#indexOf(0x0a, this.#scanned)
    if (at < 0) {
      this.#scanned = this.#buffered
      // No newline yet: the line so far must still fit (+1 for an optional \r).
      if (this.#buffered > this.maxFrameBytes + 1) throw this.#tooLarge(this.#buffered)
      return undefined
    }
    this.#scanned = 0
    const line = this.#take(at + 1)
    let end = line.byteLength - 1
    if (end > 0 && line[end - 1] === 0x0d) end--
    if (end > this.maxFrameBytes) throw this.#tooLarge(end)
    const body = line.subarray(0, end)
    try {
      utf8.decode(body)
    } catch {
      throw invalid('ndjson line is not valid UTF-8')
    }
    // Blank lines between messages are tolerated (shell scripts print them).
    return body.byteLength === 0 ? (this.#buffered > 0 ? this.#nextLine() : undefined) : body
  }

  #nextContentLength(): Uint8Array | undefined {
    if (this.#need < 0) {
      const end = this.#indexOfCrlfCrlf()
      if (end < 0) {
        if (this.#buffered > MAX_HEADER_BYTES) throw invalid(`no end of headers within ${MAX_HEADER_BYTES} bytes`)
        return undefined
      }
      const block = this.#take(end + 4)
      this.#need = this.#parseHeaders(block.subarray(0, end))
    }
    return this.#body()
  }

  #parseHeaders(block: Uint8Array): number {
    for (const byte of block) if (byte > 0x7e || (byte < 0x20 && byte !== 0x0d && byte !== 0x0a && byte !== 0x09)) throw invalid('header block holds a non-ASCII byte')
    const text = String.fromCharCode(...block)
    let size: number | undefined
    for (const line of text.split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon <= 0) throw isText(block) ? strayText(block) : invalid(`malformed header line ${JSON.stringify(line.slice(0, 80))}`)
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name !== 'content-length') continue // e.g. Content-Type: ignored, as LSP allows
      if (!/^\d{1,15}$/.test(value)) throw invalid(`Content-Length ${JSON.stringify(value.slice(0, 40))} is not a decimal number`)
      size = Number(value)
    }
    if (size === undefined) throw isText(block) && !/^content-length\s*:/im.test(text) ? strayText(block) : invalid('headers carry no Content-Length')
    if (size > this.maxFrameBytes) throw this.#tooLarge(size)
    return size
  }

  /** Index of `byte` in the buffered bytes, skipping the first `from`; -1 if absent. */
  #indexOf(byte: number, from: number): number {
    let base = -this.#offset
    for (const chunk of this.#chunks) {
      if (base + chunk.byteLength > from) {
        const at = chunk.indexOf(byte, Math.max(0, from - base))
        if (at >= 0) return base + at
      }
      base += chunk.byteLength
    }
    return -1
  }

  #indexOfCrlfCrlf(): number {
    const head = this.#peek(Math.min(this.#buffered, MAX_HEADER_BYTES + 4))
    for (let i = 0; i + 3 < head.byteLength; i++) {
      if (head[i] === 0x0d && head[i + 1] === 0x0a && head[i + 2] === 0x0d && head[i + 3] === 0x0a) return i
    }
    return -1
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]
    if (first && first.byteLength - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n)
    const out = joinBuffer(n)
    this.#copyInto(out, n)
    return out
  }

  /** Copies the first `n` buffered bytes into `out`. */
  #copyInto(out: Uint8Array, n: number): void {
    let at = 0
    let skip = this.#offset
    for (const chunk of this.#chunks) {
      if (at >= n) break
      const part = chunk.subarray(skip, skip + n - at)
      skip = 0
      out.set(part, at)
      at += part.byteLength
    }
  }

  /** Drops the first `n` buffered bytes. */
  #skip(n: number): void {
    this.#buffered -= n
    while (n > 0) {
      const first = this.#chunks[0] as Uint8Array
      const left = first.byteLength - this.#offset
      if (left > n) {
        this.#offset += n
        return
      }
      n -= left
      this.#chunks.shift()
      this.#offset = 0
    }
  }

  /** Removes and returns the first `n` buffered bytes; copies only when they span chunks. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0]
    if (first && first.byteLength - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n)
      this.#skip(n)
      return out
    }
    const out = this.#peek(n)
    this.#skip(n)
    return out
  }
}

/**
 * Text where a frame header was expected is not a frame: the other side printed to the stream that
 * carries frames (a stray `print` on stdout). Reported as such, with the first bytes shown.
 */
function strayText(bytes: Uint8Array): PolyplugError {
  const text = printable(bytes.subarray(0, STRAY_SHOWN))
  return new PolyplugError(
    TransportErrorCodes.FRAME_INVALID,
    `the plugin wrote text where frames were expected: ${JSON.stringify(`${text}…`)} (stdout carries frames: log with ctx.log or to stderr)`,
    { data: { stray: text } },
  )
}

/** How many leading bytes of stray text an error shows. */
const STRAY_SHOWN = 40

function isTextByte(byte: number): boolean {
  return (byte >= 0x20 && byte <= 0x7e) || byte === 0x09 || byte === 0x0a || byte === 0x0d
}

/** True when every byte is printable ASCII or common whitespace. */
function isText(bytes: Uint8Array): boolean {
  return bytes.every(isTextByte)
}

/** Bytes as text for an error message: printable ASCII and whitespace kept, anything else shown as `.`. */
function printable(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += isTextByte(byte) ? String.fromCharCode(byte) : '.'
  return out
}

function invalid(message: string): PolyplugError {
  return new PolyplugError(TransportErrorCodes.FRAME_INVALID, message)
}
