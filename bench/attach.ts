/**
 * A bench-side Peer that starts as the host does (src/host/plugin.ts): it offers bytes as
 * attachments in `$/hello` (docs/protocol.md §4.1) and sends them once the plugin accepts, so
 * the 1 MiB rows measure what a real host puts on the wire. The frame a raw baseline echoes for
 * the same call is `attachedFrame(...)`: the JSON head and the bytes themselves.
 */
import type { Channel } from '../src/channels/channel.js'
import { hello } from '../src/host/handshake.js'
import { BINARY_CAPABILITY, binaryJsonCodec, encodeWithAttachments, jsonReadingAttachments } from '../src/rpc/attachments.js'
import { Peer } from '../src/rpc/peer.js'

export async function agreedPeer(channel: Channel, id: string): Promise<Peer> {
  const peer = new Peer(channel, { name: id, codec: jsonReadingAttachments })
  const answer = await hello(peer, { id, timeoutMs: 30_000, capabilities: [BINARY_CAPABILITY] })
  if (!answer.capabilities?.includes(BINARY_CAPABILITY)) throw new Error(`${id} did not accept bytes as attachments`)
  peer.setCodec(binaryJsonCodec)
  return peer
}

/** What polyplug writes for `echo(bytes)` once attachments are agreed: one Buffer. */
export function attachedFrame(bytes: Uint8Array): Buffer {
  return Buffer.concat(encodeWithAttachments({ jsonrpc: '2.0', id: 1, method: 'echo', params: [bytes] }))
}
