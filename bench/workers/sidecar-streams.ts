// The byte streams a hand-written sidecar child opens from the same environment variables as the
// Node carrier (docs/protocol.md, "Environment"): the raw echo children of the bench use it. No
// polyplug code runs here.
import { constants, openSync } from 'node:fs'
import { connect, Socket } from 'node:net'
import type { Readable, Writable } from 'node:stream'

export function openSidecarStreams(env: NodeJS.ProcessEnv = process.env): { readable: Readable; writable: Writable } {
  switch (env.POLYPLUG_TRANSPORT) {
    case 'fifo': {
      const writable = new Socket({ fd: openSync(env.POLYPLUG_FIFO_OUT as string, constants.O_WRONLY), readable: false, writable: true })
      const readable = new Socket({ fd: openSync(env.POLYPLUG_FIFO_IN as string, constants.O_RDONLY), readable: true, writable: false })
      return { readable, writable }
    }
    case 'unix':
    case 'tcp': {
      const [host, port] = (env.POLYPLUG_ADDRESS ?? '').split(':')
      const socket = env.POLYPLUG_TRANSPORT === 'unix' ? connect(env.POLYPLUG_SOCKET as string) : connect(Number(port), host)
      socket.setNoDelay(true)
      return { readable: socket, writable: socket }
    }
    default:
      return { readable: process.stdin, writable: process.stdout }
  }
}
