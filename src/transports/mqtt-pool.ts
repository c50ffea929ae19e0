/**
 * The host's end of a replica pool (manifest `scale`, docs/scale-out.md): a Channel whose calls go
 * to the pool's shared topic and whose answers come back on this host's own reply topic.
 *
 * - Lifecycle (`$/hello`, `$/activate`, `$/ping`, `$/shutdown`) is answered here: each replica
 *   activated its own copy when it joined.
 * - Every send of a call is an *attempt* (`attempt` in the envelopes). Only the current attempt
 *   counts: an acceptance or answer of an older one is stale.
 * - Idempotent methods (`scale.idempotent`) run as soon as a replica takes them; the first answer
 *   wins, later ones are dropped. Other methods are *claimed*: the replica announces it took the
 *   call and runs it only when this host grants it. The host grants a call once, ever, and only to
 *   an acceptance of its current attempt; every other acceptance is declined — so a call sent
 *   several times still runs at most once.
 * - A replica whose presence turns `dead` (its will) and stays dead for `graceMs` is gone: its
 *   idempotent calls are sent again, the others fail with PLUGIN_CRASHED. Calls no replica took
 *   yet are sent again after such a death and when a replica (re)joins (a call published while no
 *   replica was subscribed is dropped by the broker).
 * - When this host loses the broker (a restart, a network cut), at that moment every call not
 *   granted to a replica (and every idempotent call) is superseded by a new attempt, sent once the
 *   host is back — acceptances from before the cut are then declined, since a grant to a replica
 *   that has not re-subscribed yet would be lost. A claimed call already granted may have run and
 *   its grant or answer may be lost: once back, the host waits one round trip through its own
 *   session (answers queued there arrive first) and then fails it with TRANSPORT_UNAVAILABLE.
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
  /** The replica that accepted the current attempt (claimed calls: the one granted it). */
  replica: string | undefined
  /** Claimed calls: granted to `replica`, which may run it — never offered or granted again. */
  granted: boolean
  /** Granted before this host lost the broker: its grant or its answer may be lost. */
  inDoubt: boolean
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
  let interrupted = 0
  /** The probe this host waits for after its latest reconnection. */
  let reconnectProbe: string | undefined
  let sink!: ChannelSink
  let closing = false

  const publish = (topic: string, body: unknown) => client.publish(topic, JSON.stringify(body), { qos: 1 })
  const send = (p: Pending) => {
    p.sentAt = Date.now()
    publish(topics.calls, p.envelope)
  }
  /** A new attempt replaces the current one: acceptances of older attempts are declined from now on. */
  const supersede = (p: Pending) => {
    p.replica = undefined
    p.envelope = { ...p.envelope, attempt: p.envelope.attempt + 1 }
    retried++
  }
  const resend = (p: Pending) => {
    supersede(p)
    send(p)
  }
  const fail = (id: RequestId, error: PolyplugError) => {
    pending.delete(id)
    sink.message({ jsonrpc: '2.0', id, error: errorToWire(error) })
  }
  const brokerLost = (p: Pending) => {
    const method = p.envelope.call.method
    interrupted++
    return new PolyplugError(
      ErrorCodes.TRANSPORT_UNAVAILABLE,
      `${options.id}: the broker restarted (or the connection to it was cut) while ${method} was granted to replica ${p.replica}, so the call may or may not have run; ` +
        `${method} is not idempotent (scale.idempotent), so polyplug did not send it again. Make ${method} idempotent and list it in scale.idempotent, or check and retry at the application level.`,
      { plugin: options.id, method },
    )
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
      } else if (p.inDoubt) {
        fail(id, brokerLost(p)) // the broker's restart reported the replica dead: that is the cause
      } else {
        crashed++
        fail(id, new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `${options.id}: replica ${replica} died while running ${p.envelope.call.method}, which is not idempotent (scale.idempotent), so it was not retried and may or may not have run`, { plugin: options.id, method: p.envelope.call.method }))
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
      const current = p !== undefined && reply.attempt === p.envelope.attempt
      if (p?.idempotent) {
        if (current && p.replica === undefined) p.replica = reply.replica
        return
      }
      // The same acceptance delivered twice (QoS 1): the replica has its grant already.
      if (p?.granted && current && p.replica === reply.replica) return
      const ok = p !== undefined && current && !p.granted
      if (ok) {
        p.granted = true
        p.replica = reply.replica
      }
      const grant: GrantEnvelope = { grant: reply.accepted, reply: replyTopic, attempt: reply.attempt, ok }
      publish(topics.replica(reply.replica), grant)
      return
    }
    const p = pending.get(reply.answer.id)
    // A claimed call runs only in the attempt it was granted; any other answer is not its own.
    const stale = p !== undefined && !p.idempotent && reply.attempt !== undefined && reply.attempt !== p.envelope.attempt
    if (!p || stale) return void duplicateAnswers++
    pending.delete(reply.answer.id)
    sink.message(reply.answer)
  }
  /**
   * This host lost the broker (each failed reconnection too): decided now, before anything from the
   * next connection arrives. A superseded attempt waits (`sentAt` 0) until the host is back.
   */
  const onDisconnect = () => {
    lastDisruption = Date.now()
    reconnectProbe = undefined
    for (const p of pending.values()) {
      if (p.granted) p.inDoubt = true
      else if (p.sentAt !== 0) supersede(p)
      if (!p.granted) p.sentAt = 0
    }
  }
  /** Back and subscribed: send the superseded attempts, then probe the session for queued answers. */
  const onReconnect = () => {
    lastDisruption = Date.now()
    for (const p of pending.values()) if (!p.granted && p.sentAt === 0) send(p)
    if ([...pending.values()].some((p) => p.inDoubt)) {
      reconnectProbe = `probe-${randomBytes(4).toString('hex')}`
      publish(replyTopic, { probe: reconnectProbe })
    }
  }
  /** The probe came back: answers the broker held for this host have all arrived; the rest are lost or not yet sent. */
  const settleInDoubt = () => {
    reconnectProbe = undefined
    for (const [id, p] of pending) if (p.inDoubt) fail(id, brokerLost(p))
  }

  // The broker sends retained presence right after the subscription: one round trip through our own
  // reply topic later, every replica known to the broker is known here (stats, `polyplug replicas`).
  const probe = `probe-${randomBytes(4).toString('hex')}`
  let probed!: () => void
  const settled = new Promise<void>((resolve) => (probed = resolve))
  client.on('message', (topic, payload) => {
    if (topic === replyTopic && payload.toString() === JSON.stringify({ probe })) return probed()
    if (topic === replyTopic && reconnectProbe !== undefined && payload.toString() === JSON.stringify({ probe: reconnectProbe })) return settleInDoubt()
    let value: unknown
    try {
      value = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    if (topic === replyTopic) onReply(value as ReplyEnvelope)
    else if (topic.startsWith(topics.presence(''))) onPresence(value as Presence)
  })
  client.on('close', onDisconnect)
  client.on('connect', () => {
    lastDisruption = Date.now()
    void client.subscribeAsync({ [replyTopic]: { qos: 1 }, [topics.allPresence]: { qos: 1 } }).then(onReconnect, () => {})
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
        granted: false,
        inDoubt: false,
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
        interrupted,
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
