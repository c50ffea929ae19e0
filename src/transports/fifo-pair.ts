/**
 * A pair of named pipes and the open order that neither deadlocks nor sees a spurious EOF (see
 * fifo.ts): the host opens OUT for reading, non-blocking, before the plugin starts; the plugin
 * opens OUT for writing, then IN for reading (blocking until the host opens it); the host polls a
 * non-blocking open of IN for writing. Used by the `fifo` transport and by `shm`'s doorbells.
 */
import { execFile } from 'node:child_process'
import { constants, open, openSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)
const openAsync = promisify(open)

/** Host side: creates both FIFOs (mode 0600) and returns OUT opened for reading, non-blocking. */
export async function makeFifoPair(inPath: string, outPath: string): Promise<number> {
  await run('mkfifo', ['-m', '600', inPath, outPath])
  return openSync(outPath, constants.O_RDONLY | constants.O_NONBLOCK)
}

/** Opens a FIFO for writing once its reader has opened it (ENXIO until then), polling with backoff. */
export async function openWriterWhenReaderArrives(path: string, signal: AbortSignal): Promise<number> {
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    if (signal.aborted) throw signal.reason
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error // ENXIO: no reader yet
    }
    await new Promise((r) => setTimeout(r, wait))
  }
}

/** Plugin side: OUT for writing first (the host already reads it), then IN for reading. */
export async function openPluginEnds(inPath: string, outPath: string): Promise<{ readFd: number; writeFd: number }> {
  const writeFd = openSync(outPath, constants.O_WRONLY)
  const readFd = await openAsync(inPath, constants.O_RDONLY)
  return { readFd, writeFd }
}
