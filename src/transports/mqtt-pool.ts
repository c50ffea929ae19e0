/**
 * The host's end of a replica pool (manifest `scale`, docs/scale-out.md): a Channel whose calls go
 * to the pool's shared topic and whose answers come back on this host's own reply topic.
 *
 * - Lifecycle (`$/hello`, `$/activate`, `$/ping`, `$/shutdown`) is answered here: each replica
 *   activated its own copy when it joined.
 * - Idempotent methods (`scale.idempotent`) run as soon as a replica takes them; the first answer
 *   wins, later ones are dropped. Other methods are *claimed*: the replica announces it took the
 *   call and runs it only when this host grants it, which the host does once per call — so a call
 *   sent twice (below) still runs at most once.
 * - A replica whose presence turns `dead` (its will) and stays dead for `graceMs` is gone: its
 *   idempotent calls are sent again, the others fail with PLUGIN_CRASHED. Calls no replica took
 *   yet are sent again after such a death, after this host reconnects to the broker, and when a
 *   replica (re)joins (a call published while no replica was subscribed is dropped by the broker).
 * - The session is persistent (MQTT 5, clean start off, session expiry) and everything is QoS 1:
 *   answers published while the host is cut off wait at the broker.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { connectAsync, type MqttClient } from 'mqtt'
import type { ChannelSink } from '../channels/channel.js'
import { normalizeChannel } from '../channels/normalize.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { errorToWire, Reserved, type RequestId } from '../rpc/wire.js'
import type { PoolHandle, PoolReplica, PoolRequest } from '../registry/types.js'
import { poolTopics, type CallEnvelope, type GrantEnvelope, type Presence, type ReplyEnvelope } from './mqtt-pool-wire.js'

export interface PoolOptions {
  id: string
  /** mqtt(s)://host:port */
  url: string
  username?: string
  password?: string
  ca?: Buffer
  idempotent: readonly string[]
  /** The answer to `$/hello`. */
  hello: unknown
  /** How long a `dead` replica may take to say `alive` again before its calls fail over. Default 1500. */
  graceMs?: number
  /** How long the broker keeps this host's session while it is away, in seconds. Default 300. */
  sessionExpirySeconds?: number
}

export type Pool = PoolHandle
type ReplicaView = PoolReplica

interface Pending {
  envelope: CallEnvelope
  idempotent: boolean
  replica: string | undefined
  sentAt: number
}

/** A topic level from a user name: no wildcards or separators. */
const safeLevel = (name: string) => name.replace(/[+#/]/g, '_')

const LIFECYCLE = new Set<string>([Reserved.hello, Reserved.activate, Reserved.ping, Reserved.shutdown])

export async function connectPool(options: PoolOptions): Promise<Pool> {
  const topics = poolTopics(options.id)
  const hostName = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`.replace(/[^a-zA-Z0-9_-]/g, '_')
  const replyTopic = topics.host(safeLevel(options.username ?? 'anonymous'), hostName)
  const idempotent = new Set(options.idempotent)
  const graceMs = options.graceMs ?? 1500
  let client: MqttClient
  try {
    client = await connectAsync(options.url, {
      clientId: `polyplug-host-${options.id}-${hostName}`.slice(0, 200),
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: options.sessionExpirySeconds ?? 300 },
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
    })
  } catch (error) {
    const denied = /not authorized|bad user/i.test(String((error as Error).message))
    throw new PolyplugError(denied ? ErrorCodes.PERMISSION_DENIED : ErrorCodes.TRANSPORT_UNAVAILABLE, `cannot reach the replica pool's broker ${options.url}: ${(error as Error).message}`, { plugin: options.id, cause: error })
  }
  client.options.reconnectPeriod = 200
  client.on('error', () => {})
  // Nagle's algorithm costs ~40 ms per QoS 1 round trip; every (re)connection gets a fresh socket.
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true)
  noDelay()
  client.on('connect', noDelay)

  const pending = new Map<RequestId, Pending>()
  const replicas = new Map<string, Omit<ReplicaView, 'inFlight'>>()
  const deathTimers = new Map<string, ReturnType<typeof setTimeout>>()
  let lastDisruption = 0
  let retried = 0
  let crashed = 0
  let duplicateAnswers = 0
  let sink!: ChannelSink
  let closing = false

  const publish = (topic: string, body: unknown) => client.publish(topic, JSON.stringify(body), { qos: 1 })
  const send = (p: Pending) => {
    p.sentAt = Date.now()
    publish(topics.calls, p.envelope)
  }
  const resend = (p: Pending) => {
    p.replica = undefined
    p.envelope = { ...p.envelope, attempt: p.envelope.attempt + 1 }
    retried++
    send(p)
  }
  /** Calls no replica has taken and that were sent before the last disruption: they may be lost. */
  const resendUntaken = () => {
    for (const p of pending.values()) if (p.replica === undefined && p.sentAt <= lastDisruption) resend(p)
  }
  const confirmDeath = (replica: string) => {
    deathTimers.delete(replica)
    const r = replicas.get(replica)
    if (r) r.state = 'dead'
    lastDisruption = Date.now()
    for (const [id, p] of pending) {
      if (p.replica !== replica) continue
      if (p.idempotent) {
        resend(p)
      } else {
        pending.delete(id)
        crashed++
        const error = new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `replica ${replica} died while running ${p.envelope.call.method}, which is not idempotent (scale.idempotent), so it was not retried`, { plugin: options.id, method: p.envelope.call.method })
        sink.message({ jsonrpc: '2.0', id, error: errorToWire(error) })
      }
    }
    resendUntaken()
  }
  const onPresence = (presence: Presence) => {
    if (typeof presence?.replica !== 'string') return
    const timer = deathTimers.get(presence.replica)
    if (presence.state === 'alive') {
      if (timer) clearTimeout(timer)
      deathTimers.delete(presence.replica)
      replicas.set(presence.replica, { replica: presence.replica, state: 'alive', ...(presence.pid ? { pid: presence.pid } : {}), ...(presence.hostname ? { hostname: presence.hostname } : {}) })
      // A replica (re)joined: a call published while no replica was subscribed (the broker
      // restarting, the pool empty) was dropped by the broker, so untaken calls go again.
      lastDisruption = Date.now()
      resendUntaken()
      return
    }
    const known = replicas.get(presence.replica)
    if (known) known.state = 'suspect'
    else replicas.set(presence.replica, { replica: presence.replica, state: 'suspect' })
    if (!timer) deathTimers.set(presence.replica, setTimeout(() => confirmDeath(presence.replica), graceMs).unref())
  }
  const onReply = (reply: ReplyEnvelope) => {
    if ('accepted' in reply) {
      const p = pending.get(reply.accepted)
      const first = p !== undefined && p.replica === undefined
      if (first) p.replica = reply.replica
      if (!p?.idempotent) {
        const grant: GrantEnvelope = { grant: reply.accepted, reply: replyTopic, attempt: reply.attempt, ok: first }
        publish(topics.replica(reply.replica), grant)
      }
      return
    }
    const p = pending.get(reply.answer.id)
    if (!p) return void duplicateAnswers++
    pending.delete(reply.answer.id)
    sink.message(reply.answer)
  }

  // The broker sends retained presence right after the subscription: one round trip through our own
  // reply topic later, every replica known to the broker is known here (stats, `polyplug replicas`).
  const probe = `probe-${randomBytes(4).toString('hex')}`
  let probed!: () => void
  const settled = new Promise<void>((resolve) => (probed = resolve))
  client.on('message', (topic, payload) => {
    if (topic === replyTopic && payload.toString() === JSON.stringify({ probe })) return probed()
    let value: unknown
    try {
      value = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    if (topic === replyTopic) onReply(value as ReplyEnvelope)
    else if (topic.startsWith(topics.presence(''))) onPresence(value as Presence)
  })
  client.on('offline', () => (lastDisruption = Date.now()))
  client.on('connect', () => {
    lastDisruption = Date.now()
    void client.subscribeAsync({ [replyTopic]: { qos: 1 }, [topics.allPresence]: { qos: 1 } }).then(resendUntaken, () => {})
  })

  const answerLocally = (id: RequestId, method: string) => {
    const result = method === Reserved.hello ? options.hello : null
    queueMicrotask(() => sink.message({ jsonrpc: '2.0', id, result }))
  }

  const channel = normalizeChannel({
    carries: 'structured-clone',
    open(s) {
      sink = s
    },
    send(message) {
      if (closing) throw new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'the replica pool connection is closed', { plugin: options.id })
      const m = message as { id?: RequestId; method?: string; params?: unknown }
      if (m.method === undefined || m.id === undefined || m.id === null) return // notifications and answers: nothing for the pool
      if (LIFECYCLE.has(m.method)) return answerLocally(m.id, m.method)
      const p: Pending = {
        envelope: { call: { jsonrpc: '2.0', id: m.id, method: m.method, ...(m.params === undefined ? {} : { params: m.params }) }, reply: replyTopic, claim: !idempotent.has(m.method), attempt: 1 },
        idempotent: idempotent.has(m.method),
        replica: undefined,
        sentAt: 0,
      }
      pending.set(m.id, p)
      send(p)
    },
    async close() {
      closing = true
      for (const t of deathTimers.values()) clearTimeout(t)
      client.options.reconnectPeriod = 0
      // Leaving for good: the broker may drop this host's session now.
      await client.endAsync(false, { properties: { sessionExpiryInterval: 0 } }).catch(() => client.endAsync(true))
    },
  })
  const granted = await client.subscribeAsync({ [replyTopic]: { qos: 1 }, [topics.allPresence]: { qos: 1 } })
  if (granted.some((g) => g.qos >= 128)) {
    await client.endAsync(true)
    throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `the broker refused this host the pool's topics (${replyTopic}, ${topics.allPresence})`, { plugin: options.id })
  }
  publish(replyTopic, { probe })
  await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 5000).unref())])
  return {
    channel,
    view() {
      const inFlight = new Map<string, number>()
      for (const p of pending.values()) if (p.replica) inFlight.set(p.replica, (inFlight.get(p.replica) ?? 0) + 1)
      return {
        replicas: [...replicas.values()].map((r) => ({ ...r, inFlight: inFlight.get(r.replica) ?? 0 })),
        retried,
        crashed,
        duplicateAnswers,
      }
    },
  }
}

/** `remote` + `scale` over mqtt(s)://[user@]host:port: the token is the password, the user defaults to polyplug-host. */
export function poolMqtt({ id, url, token, ca, idempotent, hello, graceMs }: PoolRequest): Promise<Pool> {
  const parsed = new URL(url)
  const password = token ?? decodeURIComponent(parsed.password)
  return connectPool({
    id,
    url: `${parsed.protocol}//${parsed.host}`,
    username: decodeURIComponent(parsed.username) || 'polyplug-host',
    idempotent,
    hello,
    ...(password ? { password } : {}),
    ...(ca ? { ca } : {}),
    ...(graceMs ? { graceMs } : {}),
  })
}
