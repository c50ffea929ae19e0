/**
 * A Linux pipe holds 64 KiB: a 1 MiB frame crosses a FIFO or a child's stdin/stdout in 16 fills,
 * and the writer waits for the reader to be scheduled after each one (a socket's buffer holds
 * about three times more). `F_SETPIPE_SZ` raises a pipe's capacity up to
 * /proc/sys/fs/pipe-max-size (1 MiB by default), from either end, for both. Node has no `fcntl`,
 * so this goes through koffi (the optional peer the native kind uses) when it is installed;
 * without it, or off Linux, pipes keep their size and everything works as before.
 *
 * A pipe is grown only once a frame larger than its default crossed it: bigger pipes count
 * against the user's pipe-user-pages-soft budget, which most plugins should not spend.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** The default capacity of a Linux pipe, and the frame size past which a channel grows its pipes. */
export const DEFAULT_PIPE_BYTES = 64 * 1024
/** What a pipe is grown to (capped by pipe-max-size). */
export const GROWN_PIPE_BYTES = 1024 * 1024
const F_SETPIPE_SZ = 1031
const F_GETPIPE_SZ = 1032

type Fcntl = (fd: number, command: number, argument: number) => number

let fcntl: Fcntl | null | undefined

/** libc's fcntl through koffi; null where unavailable (not Linux, koffi not installed). */
function loadFcntl(): Fcntl | null {
  if (fcntl !== undefined) return fcntl
  fcntl = null
  if (process.platform !== 'linux') return null
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(name: string): { func(signature: string): Fcntl } }
    fcntl = koffi.load('libc.so.6').func('int fcntl(int, int, int)')
  } catch {
    // koffi is optional: pipes keep their default size.
  }
  return fcntl
}

function maxPipeBytes(): number {
  try {
    return Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8')) || GROWN_PIPE_BYTES
  } catch {
    return GROWN_PIPE_BYTES
  }
}

/** The capacity of the pipe behind `fd` in bytes, or undefined where it cannot be read. */
export function pipeBytes(fd: number): number | undefined {
  const size = loadFcntl()?.(fd, F_GETPIPE_SZ, 0)
  return size !== undefined && size > 0 ? size : undefined
}

/**
 * A function to call with the size of each frame that crosses the pipes behind `fds`: the first
 * frame larger than a default pipe grows them (once; failures leave them as they are).
 */
export function pipeGrower(fds: readonly (number | undefined)[]): (frameBytes: number) => void {
  let done = false
  return (frameBytes) => {
    if (done || frameBytes <= DEFAULT_PIPE_BYTES) return
    done = true
    const set = loadFcntl()
    if (!set) return
    const size = Math.min(GROWN_PIPE_BYTES, maxPipeBytes())
    for (const fd of fds) if (fd !== undefined && fd >= 0) set(fd, F_SETPIPE_SZ, size) // -1 (EPERM over the user's budget, EBADF): left as it is
  }
}
