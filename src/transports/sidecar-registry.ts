/** Host-side sidecar transports by name; http, mqtt and shm register here as they land. */
import { fifoTransport } from './fifo.js'
import { shmTransport } from './shm/sidecar.js'
import { httpSidecarTransport } from './http-sidecar.js'
import { mqttSidecarTransport } from './mqtt-sidecar.js'
import type { SidecarTransport } from './sidecar.js'
import { stdioTransport } from './stdio.js'
import { tcpTransport } from './tcp.js'
import { unixTransport } from './unix.js'

const transports = new Map<string, SidecarTransport>(
  [stdioTransport, fifoTransport, unixTransport, tcpTransport, shmTransport, httpSidecarTransport('post'), httpSidecarTransport('ws'), mqttSidecarTransport].map((t) => [t.name, t]),
)

export function sidecarTransport(name: string): SidecarTransport | undefined {
  return transports.get(name)
}

/** Adds (or replaces) a sidecar transport, e.g. from another module of polyplug. */
export function registerSidecarTransport(transport: SidecarTransport): void {
  transports.set(transport.name, transport)
}
