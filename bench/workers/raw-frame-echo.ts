// The raw baseline for byte-stream sidecars: a hand-written child that opens the same transport
// from the same environment variables and copies every byte back (an echo preserves framing).
// No polyplug code runs in this process.
import { constants, openSync } from 'node:fs'
import { connect, Socket } from 'node:net'
import type { Readable, Writable } from 'node:stream'

const env = process.env
let readable: Readable
let writable: Writable
switch (env.POLYPLUG_TRANSPORT) {
  case 'fifo': {
    writable = new Socket({ fd: openSync(env.POLYPLUG_FIFO_OUT as string, constants.O_WRONLY), readable: false, writable: true })
    readable = new Socket({ fd: openSync(env.POLYPLUG_FIFO_IN as string, constants.O_RDONLY), readable: true, writable: false })
    break
  }
  case 'unix':
  case 'tcp': {
    const [host, port] = (env.POLYPLUG_ADDRESS ?? '').split(':')
    const socket = env.POLYPLUG_TRANSPORT === 'unix' ? connect(env.POLYPLUG_SOCKET as string) : connect(Number(port), host)
    socket.setNoDelay(true)
    readable = writable = socket
    break
  }
  default:
    readable = process.stdin
    writable = process.stdout
}
readable.pipe(writable)
readable.on('end', () => process.exit(0))
