/**
 * The replica pool's topics and envelopes (docs/scale-out.md). Hosts publish calls to one topic;
 * the plugin's replicas share a subscription to it, so the broker hands each call to one replica:
 *
 *   polyplug/<id>/calls                    host -> pool (replicas: $share/<group>/polyplug/<id>/calls)
 *   polyplug/<id>/hosts/<user>/<instance>  replica -> that host (accepted, answer)
 *   polyplug/<id>/replicas/<replica>       host -> that replica (grant of a claimed call)
 *   polyplug/<id>/presence/<replica>       retained: alive (on connect) or dead (the replica's will)
 *
 * A broker's ACL can then give each host only its own answers (`hosts/<its user>/#`) and each
 * replica only its own grants and presence (test/support/mosquitto.ts `poolUsers`).
 *
 * Calls carry their reply topic in the envelope, so any MQTT 3.1.1 or 5 broker with shared
 * subscriptions serves; many hosts share one pool. Everything is QoS 1.
 */
import { TOPIC_ROOT } from './mqtt.js'

export const poolTopics = (pluginId: string) => ({
  calls: `${TOPIC_ROOT}/${pluginId}/calls`,
  shared: (group: string) => `$share/${group}/${TOPIC_ROOT}/${pluginId}/calls`,
  host: (user: string, instance: string) => `${TOPIC_ROOT}/${pluginId}/hosts/${user}/${instance}`,
  replica: (replica: string) => `${TOPIC_ROOT}/${pluginId}/replicas/${replica}`,
  presence: (replica: string) => `${TOPIC_ROOT}/${pluginId}/presence/${replica}`,
  allPresence: `${TOPIC_ROOT}/${pluginId}/presence/+`,
})

/** The default share group: one pool per plugin id. */
export const defaultGroup = (pluginId: string) => `polyplug-${pluginId.replace(/[^a-zA-Z0-9_-]/g, '_')}`

/** host -> pool. `claim`: the replica must be granted the call before running it (non-idempotent methods). */
export interface CallEnvelope {
  call: { jsonrpc: '2.0'; id: number | string; method: string; params?: unknown }
  /** Where the replica answers. */
  reply: string
  claim: boolean
  /** 1 for the first send, more for a retry. */
  attempt: number
}

/** replica -> host. `attempt`: the attempt accepted or answered (older replicas leave it out of answers). */
export type ReplyEnvelope =
  | { accepted: number | string; replica: string; attempt: number }
  | { answer: { jsonrpc: '2.0'; id: number | string; result?: unknown; error?: unknown }; replica: string; attempt?: number }

/** host -> replica: go ahead (or not: another replica or attempt has the call, or it is over). */
export interface GrantEnvelope {
  grant: number | string
  reply: string
  attempt: number
  ok: boolean
}

export interface Presence {
  state: 'alive' | 'dead'
  replica: string
  pid?: number
  hostname?: string
  since?: number
}
