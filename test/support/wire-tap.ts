/**
 * A transport that is another one with a tap on the host's end: every message body the host sends
 * or receives is kept, as it went on the wire (before framing, after the codec), so a test can
 * inspect what the bytes looked like. The plugin is told the real transport's name, so any kit
 * connects to it unchanged.
 */
import type { Channel } from '../../src/channels/channel.js'
import { registerTransport, transportModule } from '../../src/registry/index.js'
import type { SidecarEndpoint } from '../../src/transports/sidecar.js'

export interface WireLog {
  /** Bodies the host wrote, one per message (parts joined). */
  sent: Buffer[]
  /** Bodies the host read. */
  received: Buffer[]
}

/** Registers `tap-<name>` over the registered transport `name`; returns its log. */
export function registerTap(name: string): WireLog {
  const real = transportModule(name)?.sidecar
  if (!real) throw new Error(`no sidecar transport ${name}`)
  const log: WireLog = { sent: [], received: [] }
  registerTransport({
    name: `tap-${name}`,
    description: `${name}, with the host's end recorded (tests)`,
    sidecar: {
      ...(real.needs ? { needs: real.needs } : {}),
      plugin: () => real.plugin(),
      host: async () => {
        const transport = await real.host()
        return {
          name: `tap-${name}`,
          async prepare(context): Promise<SidecarEndpoint> {
            const endpoint = await transport.prepare(context)
            return {
              env: { ...endpoint.env, POLYPLUG_TRANSPORT: name },
              usesStdio: endpoint.usesStdio,
              ...(endpoint.files ? { files: endpoint.files } : {}),
              ...(endpoint.network ? { network: endpoint.network } : {}),
              connect: async (child, signal) => tap(await endpoint.connect(child, signal), log),
              dispose: () => endpoint.dispose(),
            }
          },
        }
      },
    },
  })
  return log
}

function asBuffer(message: unknown): Buffer {
  if (Array.isArray(message)) return Buffer.concat(message as Uint8Array[])
  if (message instanceof Uint8Array) return Buffer.from(message)
  return Buffer.from(typeof message === 'string' ? message : JSON.stringify(message))
}

function tap(inner: Channel, log: WireLog): Channel {
  return {
    carries: inner.carries,
    ...(inner.binary ? { binary: true } : {}),
    ...(inner.useCodec ? { useCodec: inner.useCodec.bind(inner) } : {}),
    get closed() {
      return inner.closed
    },
    send(message) {
      log.sent.push(asBuffer(message))
      return inner.send(message)
    },
    onMessage(listener) {
      return inner.onMessage((message) => {
        log.received.push(asBuffer(message))
        listener(message)
      })
    },
    onClose: (listener) => inner.onClose(listener),
    close: (reason) => inner.close(reason),
  }
}
