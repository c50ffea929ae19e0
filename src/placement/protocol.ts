/**
 * What a sidecar speaks on its channel (manifest `sidecar.protocol`): a message strategy the host
 * follows, whatever the transport. `polyplug` is the handshake protocol of docs/protocol.md; `lsp`
 * (protocol-lsp.ts) is an existing language server. The host asks the strategy; it never tests
 * which one it has.
 */
import type { FramingName } from '../framing/framing.js'
import type { Manifest } from '../manifest/schema.js'
import type { Peer } from '../rpc/peer.js'
import { Reserved } from '../rpc/wire.js'
import { lspProtocol } from './protocol-lsp.js'

export interface MessageProtocol {
  readonly name: string
  /** The framing a sidecar speaking it uses when its manifest names none. */
  readonly framing: FramingName
  /**
   * Whether the plugin runs polyplug's handshake (`$/hello`, the launch token, `$/activate`) and,
   * having proven itself, is served the host API. Without it a plugin is active once connected.
   */
  readonly handshake: boolean
  /** The notification that cancels a request the host gave up on (both names are always accepted). */
  readonly cancelMethod: string
  /** How a call's (or notification's) arguments travel as JSON-RPC params for `method`. */
  params(args: unknown[], method: string): unknown[] | Record<string, unknown> | undefined
  /** Asks the plugin to stop; resolves to what it handed back (a reload's snapshot), if anything. */
  stop(peer: Peer): Promise<{ state?: unknown } | null>
}

export const polyplugProtocol: MessageProtocol = {
  name: 'polyplug',
  framing: 'length',
  handshake: true,
  cancelMethod: Reserved.cancel,
  params: (args) => args,
  stop: (peer) => peer.call<{ state?: unknown } | null>(Reserved.shutdown, undefined, { timeout: 2000 }).catch(() => null),
}

const protocols = new Map<string, MessageProtocol>([polyplugProtocol, lspProtocol].map((p) => [p.name, p]))

/** The protocol a sidecar's manifest asks for (`sidecar.protocol`, default polyplug). */
export function sidecarProtocol(manifest: Manifest): MessageProtocol {
  return protocols.get(manifest.sidecar?.protocol ?? polyplugProtocol.name) ?? polyplugProtocol
}
