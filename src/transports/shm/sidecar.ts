/**
 * `shm` between the host and a plugin process (docs/shm.md, "Launch"): the region is a file in a
 * private 0700 directory under /dev/shm (mode 0600), mapped by both sides; the doorbells are two
 * FIFOs beside it. The directory is removed as soon as the plugin has opened everything (and
 * again by `dispose`, for a plugin that never got that far). The open order of the
 * FIFOs is the fifo transport's: no deadlock, no spurious EOF.
 */
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, openSync } from 'node:fs'
import { join } from 'node:path'
import type { Channel } from '../../channels/channel.js'
import { PolyplugError } from '../../rpc/errors.js'
import { ErrorCodes } from '../../errors/index.js'
import { privateDir, type SidecarContext, type SidecarEndpoint, type SidecarTransport } from '../sidecar.js'
import { shmChannel } from './channel.js'
import { fdDoorbell } from './fd-doorbell.js'
import { initRegion, regionSize } from './layout.js'
import { mapShared } from './native.js'
import { shmOptions, spinFromEnv } from './options.js'
import type { PluginSide } from '../../registry/types.js'
import { channelPluginSide } from '../sidecar-plugin.js'
import { makeFifoPair, openPluginEnds, openWriterWhenReaderArrives } from '../fifo-pair.js'

const liveRegions = new Map<string, ArrayBuffer>()

/** The host's mapping of a running plugin's region, by plugin id: for diagnostics and failure tests. */
export function shmRegionOf(pluginId: string): ArrayBuffer | undefined {
  return liveRegions.get(pluginId)
}

/** Bytes per ring between processes: messages up to 2 MiB cross in one record. */
export const PROCESS_RING_CAPACITY = 4 << 20
const SHM_BASE = '/dev/shm'

export const shmTransport: SidecarTransport = {
  name: 'shm',
  async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
    const { spinMicros } = shmOptions(context.options, context.id)
    const dir = await privateDir(existsSync(SHM_BASE) ? SHM_BASE : undefined)
    const regionPath = join(dir.path, 'region')
    const wakeIn = join(dir.path, 'wake-in')
    const wakeOut = join(dir.path, 'wake-out')
    const size = regionSize(PROCESS_RING_CAPACITY)
    let buffer: ArrayBuffer
    let readFd: number | undefined
    try {
      const fd = openSync(regionPath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600)
      try {
        ftruncateSync(fd, size)
        buffer = mapShared(fd, size)
      } finally {
        closeSync(fd)
      }
      initRegion(buffer, PROCESS_RING_CAPACITY)
      readFd = await makeFifoPair(wakeIn, wakeOut)
    } catch (cause) {
      await dir.remove()
      if (cause instanceof PolyplugError) throw cause.withContext(context.id, undefined)
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot create the shm region: ${(cause as Error).message}`, { plugin: context.id, cause })
    }
    let taken = false
    return {
      env: { POLYPLUG_SHM_PATH: regionPath, POLYPLUG_SHM_SIZE: String(size), POLYPLUG_SHM_WAKE_IN: wakeIn, POLYPLUG_SHM_WAKE_OUT: wakeOut, POLYPLUG_SHM_SPIN_US: String(spinMicros ?? 0) },
      usesStdio: false,
      files: { read: [dir.path], write: [dir.path] },
      async connect(_child, signal) {
        const writeFd = await openWriterWhenReaderArrives(wakeIn, signal)
        taken = true
        // The plugin has mapped the region and is opening its last FIFO: no name is needed any
        // more. Unlinking now leaves nothing in /dev/shm even if both processes are SIGKILLed;
        // the pages go with the last mapping.
        await dir.remove()
        liveRegions.set(context.id, buffer)
        return shmChannel({ role: 'host', buffer, doorbell: fdDoorbell(readFd as number, writeFd), maxMessageBytes: context.maxFrameBytes, spinMicros })
      },
      async dispose() {
        if (!taken && readFd !== undefined) closeSync(readFd)
        readFd = undefined
        if (liveRegions.get(context.id) === buffer) liveRegions.delete(context.id)
        await dir.remove()
      },
    }
  },
}


/** Plugin side: map the region, then open the doorbells (WAKE_OUT first, as the host expects). */
export async function shmPluginChannel(env: Record<string, string | undefined>, maxMessageBytes?: number): Promise<Channel> {
  const path = env.POLYPLUG_SHM_PATH
  const size = Number(env.POLYPLUG_SHM_SIZE)
  const wakeIn = env.POLYPLUG_SHM_WAKE_IN
  const wakeOut = env.POLYPLUG_SHM_WAKE_OUT
  if (!path || !wakeIn || !wakeOut || !(size > 0)) {
    throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'POLYPLUG_SHM_PATH, POLYPLUG_SHM_SIZE, POLYPLUG_SHM_WAKE_IN and POLYPLUG_SHM_WAKE_OUT must be set')
  }
  const fd = openSync(path, constants.O_RDWR)
  let buffer: ArrayBuffer
  try {
    if (fstatSync(fd).size !== size) throw new PolyplugError(ErrorCodes.SHM_CORRUPT, `region file is not ${size} bytes`)
    buffer = mapShared(fd, size)
  } finally {
    closeSync(fd)
  }
  const { readFd, writeFd } = await openPluginEnds(wakeIn, wakeOut)
  return shmChannel({ role: 'plugin', buffer, doorbell: fdDoorbell(readFd, writeFd), maxMessageBytes, spinMicros: spinFromEnv(env) })
}

export const shmPluginSide: PluginSide = channelPluginSide(({ env, maxFrameBytes }) => shmPluginChannel(env, maxFrameBytes))
