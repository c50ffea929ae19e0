/**
 * `port` transport: a MessagePort, a Worker, or a worker's parentPort. Messages are structured
 * clones, so no codec runs. The channel does not own the worker: whoever started it decides when
 * the channel ends (see placement/worker.ts), except that a MessagePort's own `close` ends it.
 */
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel } from '../channels/channel.js'
import type { WorkerLink } from '../registry/types.js'

export interface PortLike {
  postMessage(value: unknown): void
  on(event: 'message' | 'close', listener: (value: unknown) => void): unknown
  off(event: 'message' | 'close', listener: (value: unknown) => void): unknown
  /** MessagePort has it; a Worker or parentPort is ended by its owner instead. */
  close?(): void
}

export function portChannel(port: PortLike): Channel {
  let detach = () => {}
  return normalizeChannel({
    carries: 'structured-clone',
    open(sink) {
      const onMessage = (value: unknown) => sink.message(value)
      const onClose = () => sink.closed()
      port.on('message', onMessage)
      port.on('close', onClose)
      detach = () => {
        port.off('message', onMessage)
        port.off('close', onClose)
      }
    },
    send(message) {
      port.postMessage(message)
    },
    close() {
      detach()
      port.close?.()
    },
  })
}

/** `worker` placement over the worker's own port: both ends are a portChannel. */
export const portWorkerLink: WorkerLink = {
  prepare: () => undefined,
  host: (_data, port) => portChannel(port),
  plugin: (_data, port) => portChannel(port),
}
