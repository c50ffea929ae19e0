/**
 * Loads the polyplug_shm addon (src/native/polyplug_shm.c, built by scripts/build-native.mjs):
 * Node has no mmap of its own, and copies into a SharedArrayBuffer slowly. Loaded on first use,
 * so hosts that never use `shm` do not need it: a build that does not load (none for this platform)
 * is a clear TRANSPORT_UNAVAILABLE between processes naming the script that builds it, and plain
 * (slower) copies in a worker.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { PolyplugError } from '../../rpc/errors.js'
import { ErrorCodes } from '../../errors/index.js'
import { plainByteOps, type ByteOps } from './ring.js'

interface Addon {
  map(fd: number, size: number): ArrayBuffer
  copy(dst: Uint8Array, offset: number, src: Uint8Array): void
}

/** Builds the addon where the shipped one does not load (the package has no install script). */
const buildScript = fileURLToPath(new URL('../../../../scripts/shm-addon.mjs', import.meta.url))

let addon: Addon | undefined
let ops: ByteOps | undefined | null

function load(): Addon {
  if (!addon) {
    try {
      addon = createRequire(import.meta.url)('./polyplug_shm.node') as Addon
    } catch (cause) {
      const why = (cause as Error).message.split('\n')[0]
      throw new PolyplugError(
        ErrorCodes.TRANSPORT_UNAVAILABLE,
        `the shm addon does not load in this Node (${why}): build it for this machine with \`node ${buildScript}\` (needs a C compiler and Node's headers)`,
        { cause },
      )
    }
  }
  return addon
}

/**
 * Messages up to this size are copied by the typed array's own `set` and read into Node's pooled
 * allocation: for a small call the addon's memcpy costs more in the call than in the copy, and an
 * unpooled buffer per message (its own ArrayBuffer and backing store) was the largest share of the
 * host's garbage at 256 calls in flight.
 */
export const SMALL_MESSAGE = 512

const copySmall = (dst: Uint8Array, offset: number, src: Uint8Array) => dst.set(src, offset)

/**
 * memcpy in and out of a region, and allocations that skip zeroing (every byte is copied over):
 * the addon's when it is built, else the plain typed-array operations (correct, slower on a
 * SharedArrayBuffer). Small messages stay in JS either way (SMALL_MESSAGE).
 */
export function nativeByteOps(): ByteOps {
  if (ops === undefined) {
    try {
      const { copy } = load()
      ops = {
        copy: (dst, offset, src) => (src.byteLength <= SMALL_MESSAGE ? copySmall(dst, offset, src) : copy(dst, offset, src)),
        alloc: (size) => (size <= SMALL_MESSAGE ? Buffer.allocUnsafe(size) : Buffer.allocUnsafeSlow(size)),
      }
    } catch {
      ops = null
    }
  }
  return ops ?? plainByteOps
}

/** Maps `size` bytes of the open file `fd` MAP_SHARED; unmapped when the ArrayBuffer is collected. */
export function mapShared(fd: number, size: number): ArrayBuffer {
  const loaded = load()
  try {
    return loaded.map(fd, size)
  } catch (cause) {
    throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot map the shm region: ${(cause as Error).message}`, { cause })
  }
}
