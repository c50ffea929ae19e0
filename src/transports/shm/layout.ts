/**
 * The shared region's layout, version 1 (docs/shm.md is the normative description; the C side is
 * examples/shm-c/plugin.c). Pure: works over any ArrayBuffer or SharedArrayBuffer.
 */
import { PolyplugError } from '../../rpc/errors.js'
import { ErrorCodes } from '../../errors/index.js'

export const SHM_MAGIC = 0x4d535050 // the bytes "PPSM", little-endian
export const SHM_VERSION = 1
export const HEADER_SIZE = 512
export const MIN_CAPACITY = 4096
export const MAX_CAPACITY = 2 ** 30

/** u32 word indices (byte offset / 4) of the header fields. */
export const Word = {
  magic: 0,
  version: 1,
  headerSize: 2,
  capacity: 3,
  hostState: 4,
  pluginState: 5,
  hostWake: 6,
  pluginWake: 7,
} as const

/** Byte offsets of the two ring control blocks: A carries host→plugin, B plugin→host. */
export const RING_A = 64
export const RING_B = 192
/** u32 offsets inside a control block. */
export const Ctl = { tail: 0, producerWaiting: 1, head: 16, consumerWaiting: 17 } as const

export type Role = 'host' | 'plugin'

export function regionSize(capacity: number): number {
  return HEADER_SIZE + 2 * capacity
}

export function isValidCapacity(capacity: number): boolean {
  return Number.isInteger(capacity) && capacity >= MIN_CAPACITY && capacity <= MAX_CAPACITY && (capacity & (capacity - 1)) === 0
}

/** Zeroes the header and writes magic, version and sizes. The host does this once, before the plugin starts. */
export function initRegion(buffer: ArrayBufferLike, capacity: number): void {
  if (!isValidCapacity(capacity)) {
    throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `shm capacity must be a power of two between ${MIN_CAPACITY} and ${MAX_CAPACITY}, got ${capacity}`)
  }
  if (buffer.byteLength < regionSize(capacity)) {
    throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `shm region of ${buffer.byteLength} bytes is smaller than ${regionSize(capacity)}`)
  }
  const words = new Int32Array(buffer, 0, HEADER_SIZE / 4)
  words.fill(0)
  words[Word.version] = SHM_VERSION
  words[Word.headerSize] = HEADER_SIZE
  words[Word.capacity] = capacity
  // Magic last: a reader that sees it sees the rest of the header.
  Atomics.store(words, Word.magic, SHM_MAGIC | 0)
}

/** Checks the header of a mapped region; returns its ring capacity or throws SHM_CORRUPT. */
export function checkRegion(buffer: ArrayBufferLike): number {
  if (buffer.byteLength < HEADER_SIZE) throw corrupt(`region of ${buffer.byteLength} bytes is smaller than the header`)
  const words = new Int32Array(buffer, 0, HEADER_SIZE / 4)
  const magic = Atomics.load(words, Word.magic) >>> 0
  if (magic !== SHM_MAGIC) throw corrupt(`bad magic 0x${magic.toString(16)}`)
  if (words[Word.version] !== SHM_VERSION) throw corrupt(`layout version ${words[Word.version]}, expected ${SHM_VERSION}`)
  if (words[Word.headerSize] !== HEADER_SIZE) throw corrupt(`header size ${words[Word.headerSize]}, expected ${HEADER_SIZE}`)
  const capacity = (words[Word.capacity] ?? 0) >>> 0
  if (!isValidCapacity(capacity)) throw corrupt(`invalid ring capacity ${capacity}`)
  if (buffer.byteLength < regionSize(capacity)) throw corrupt(`region of ${buffer.byteLength} bytes cannot hold two rings of ${capacity}`)
  return capacity
}

export function corrupt(message: string, data?: unknown): PolyplugError {
  return new PolyplugError(ErrorCodes.SHM_CORRUPT, `shared memory corrupt: ${message}`, { data })
}
