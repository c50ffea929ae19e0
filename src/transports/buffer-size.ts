/**
 * The kernel buffers under a byte-stream channel, grown once a large frame crosses it. A Linux
 * pipe holds 64 KiB and a Unix socket sends through a 208 KiB buffer (wmem_default): a 1 MiB
 * frame crosses a FIFO in 16 fills and a socket in about 5, and after each fill the writer waits
 * for the reader to be scheduled. `F_SETPIPE_SZ` raises a pipe's capacity (from either end, for
 * both; up to /proc/sys/fs/pipe-max-size), `SO_SNDBUF` a socket's send buffer (this end's
 * direction; up to 2 × wmem_max). Node offers neither `fcntl` nor `setsockopt` on a stream, so
 * this goes through koffi (the optional peer the native kind uses) when it is installed; without
 * it, or off Linux, buffers keep their size and everything works as before.
 *
 * A channel grows its buffers only once a frame larger than a default pipe crossed it: bigger
 * pipes count against the user's pipe-user-pages-soft budget, which most plugins should not spend.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** The default capacity of a Linux pipe, and the frame size past which a channel grows its buffers. */
export const DEFAULT_PIPE_BYTES = 64 * 1024
/** What a pipe or a socket's send buffer is grown to (capped by the kernel's limits). */
export const GROWN_PIPE_BYTES = 1024 * 1024
const F_SETPIPE_SZ = 1031
const F_GETPIPE_SZ = 1032
const SOL_SOCKET = 1
const SO_SNDBUF = 7

interface Libc {
  fcntl(fd: number, command: number, argument: number): number
  setsockopt(fd: number, level: number, name: number, value: Int32Array, length: number): number
  getsockopt(fd: number, level: number, name: number, value: Int32Array, length: Uint32Array): number
}

let libc: Libc | null | undefined

/** libc's fcntl and setsockopt through koffi; null where unavailable (not Linux, koffi not installed). */
function loadLibc(): Libc | null {
  if (libc !== undefined) return libc
  libc = null
  if (process.platform !== 'linux') return null
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(name: string): { func(signature: string): unknown } }
    const lib = koffi.load('libc.so.6')
    libc = {
      fcntl: lib.func('int fcntl(int, int, int)') as Libc['fcntl'],
      setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)') as Libc['setsockopt'],
      getsockopt: lib.func('int getsockopt(int, int, int, _Out_ void *, _Inout_ uint32_t *)') as Libc['getsockopt'],
    }
  } catch {
    // koffi is optional: buffers keep their default size.
  }
  return libc
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
  const size = loadLibc()?.fcntl(fd, F_GETPIPE_SZ, 0)
  return size !== undefined && size > 0 ? size : undefined
}

/** The send buffer of the socket behind `fd` in bytes (the kernel's figure, twice what was asked), or undefined. */
export function sendBufferBytes(fd: number): number | undefined {
  const value = new Int32Array(1)
  return loadLibc()?.getsockopt(fd, SOL_SOCKET, SO_SNDBUF, value, new Uint32Array([4])) === 0 ? value[0] : undefined
}

/** The fd under a Node stream (libuv's handle has it on Unix); undefined where unknown. */
export function streamFd(stream: unknown): number | undefined {
  const fd = (stream as { _handle?: { fd?: unknown } } | undefined)?._handle?.fd
  return typeof fd === 'number' && fd >= 0 ? fd : undefined
}

/** Calls `grow` once, the first time it is told of a frame larger than a default pipe. */
function onFirstLargeFrame(grow: (libc: Libc) => void): (frameBytes: number) => void {
  let done = false
  return (frameBytes) => {
    if (done || frameBytes <= DEFAULT_PIPE_BYTES) return
    done = true
    const lib = loadLibc()
    if (lib) grow(lib)
  }
}

/** For StreamChannelOptions.onFrameBytes: grows the pipes behind `fds` (a failure leaves them as they are). */
export function pipeGrower(fds: readonly (number | undefined)[]): (frameBytes: number) => void {
  return onFirstLargeFrame((lib) => {
    const size = Math.min(GROWN_PIPE_BYTES, maxPipeBytes())
    for (const fd of fds) if (fd !== undefined) lib.fcntl(fd, F_SETPIPE_SZ, size) // -1 (EPERM past the user's budget): left as it is
  })
}

/** For StreamChannelOptions.onFrameBytes: grows the send buffer of the Unix socket `stream` (its fd read when needed). */
export function sendBufferGrower(stream: unknown): (frameBytes: number) => void {
  return onFirstLargeFrame((lib) => {
    const fd = streamFd(stream)
    if (fd !== undefined) lib.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, new Int32Array([GROWN_PIPE_BYTES]), 4)
  })
}
