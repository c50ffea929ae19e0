/**
 * The doorbell between processes: one FIFO per direction; a byte written means "look at the
 * rings". The reading end is a libuv pipe handle, so a sleeping side waits in the event loop and
 * never blocks it. End-of-file means the other process is gone.
 */
import { Socket } from 'node:net'
import type { Doorbell } from './channel.js'

const ONE = new Uint8Array([1])

export function fdDoorbell(readFd: number, writeFd: number): Doorbell {
  const input = new Socket({ fd: readFd, readable: true, writable: false })
  const output = new Socket({ fd: writeFd, readable: false, writable: true })
  output.on('error', () => {}) // EPIPE: the other side is gone; the input's EOF reports it
  let stopped = false
  return {
    ring() {
      // A full pipe already holds a pending wake; writing more cannot help.
      if (!stopped && output.writable && output.writableLength === 0) output.write(ONE)
    },
    start(onWake, onGone) {
      input.on('data', () => {
        if (!stopped) onWake()
      })
      input.on('end', () => onGone())
      input.on('error', (error) => onGone(error))
      onWake()
    },
    close() {
      if (stopped) return
      stopped = true
      // Flush the last ring (it carries our closed state), then hang up.
      output.end()
      input.destroy()
    },
  }
}
