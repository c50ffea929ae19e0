/**
 * Loads the polyplug_shm addon (src/native/polyplug_shm.c, built by scripts/build-native.mjs):
 * Node has no mmap of its own. Loaded on first use, so hosts that never use `shm` between
 * processes do not need it, and a missing build is a clear TRANSPORT_UNAVAILABLE.
 */
import { createRequire } from 'node:module'
import { ErrorCodes, PolyplugError } from '../../rpc/errors.js'

interface Addon {
  map(fd: number, size: number): ArrayBuffer
}

let addon: Addon | undefined

/** Maps `size` bytes of the open file `fd` MAP_SHARED; unmapped when the ArrayBuffer is collected. */
export function mapShared(fd: number, size: number): ArrayBuffer {
  if (!addon) {
    try {
      addon = createRequire(import.meta.url)('./polyplug_shm.node') as Addon
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'the shm addon is not built (run npm run build; it needs gcc and Node headers)', { cause })
    }
  }
  try {
    return addon.map(fd, size)
  } catch (cause) {
    throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot map the shm region: ${(cause as Error).message}`, { cause })
  }
}
