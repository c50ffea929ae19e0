/**
 * One replica's membership in a pool (`polyplug serve DIR --broker URL`, src/host/replica.ts
 * loads and activates the plugin): takes calls from the pool's shared subscription and answers
 * each to the reply topic its call names (mqtt-pool-wire.ts). Presence: a retained `alive` on
 * every (re)connect, a retained `dead` as its will — a crash or a lost connection tells the hosts
 * at once; a host waits `graceMs` for `alive` again before it believes a `dead` (broker restarts).
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { errorToWire } from '../rpc/wire.js'
import type { ReplicaRequest, RunningReplica } from '../registry/types.js'
import { defaultGroup, poolTopics, type CallEnvelope, type GrantEnvelope, type Presence, type ReplyEnvelope } from './mqtt-pool-wire.js'

const GRANT_TIMEOUT_MS = 30_000

export async function joinMqttPool(options: ReplicaRequest): Promise<RunningReplica> {
  const id = options.id
  const topics = poolTopics(id)
  // With its own credentials a replica is named after its user, which the broker's ACL can pin.
  const replica = options.replica ?? options.username ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`

  const presence = (state: Presence['state']): string =>
    JSON.stringify({ state, replica, pid: process.pid, hostname: hostname(), since: Date.now() } satisfies Presence)
  const clientOptions: IClientOptions = {
    clientId: `polyplug-replica-${replica}`.slice(0, 200),
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 200,
    connectTimeout: 5000,
    will: { topic: topics.presence(replica), payload: Buffer.from(presence('dead')), qos: 1, retain: true },
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  }
  let client: MqttClient
  try {
    client = await connectAsync(options.broker, { ...clientOptions, reconnectPeriod: 0 })
  } catch (error) {
    throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `replica of ${id} cannot connect to ${options.broker}: ${(error as Error).message}`, { plugin: id, cause: error })
  }
  client.options.reconnectPeriod = 200
  client.on('error', () => {})
  // Nagle's algorithm costs ~40 ms per QoS 1 round trip; every (re)connection gets a fresh socket.
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true)
  noDelay()
  client.on('connect', noDelay)
  const grants = new Map<string, (ok: boolean) => void>()
  const grantKey = (reply: string, callId: number | string, attempt: number) => `${reply}\u0000${callId}\u0000${attempt}`
  const publish = (topic: string, body: unknown) => client.publish(topic, JSON.stringify(body), { qos: 1 })

  const join = async () => {
    const granted = await client.subscribeAsync(
      { [topics.shared(options.group ?? defaultGroup(id))]: { qos: 1 }, [topics.replica(replica)]: { qos: 1 } },
    )
    if (granted.some((g) => g.qos >= 128)) throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `the broker refused replica ${replica} the pool's topics`, { plugin: id })
    await client.publishAsync(topics.presence(replica), presence('alive'), { qos: 1, retain: true })
  }
  client.on('connect', () => void join().catch(() => {}))
  await join()

  const run = async (envelope: CallEnvelope) => {
    const { call, reply, attempt } = envelope
    let answer: ReplyEnvelope
    try {
      const result = await options.run(call.method, call.params)
      answer = { answer: { jsonrpc: '2.0', id: call.id, result: result ?? null }, replica, attempt }
    } catch (error) {
      answer = { answer: { jsonrpc: '2.0', id: call.id, error: errorToWire(toPolyplugError(error)) }, replica, attempt }
    }
    publish(reply, answer)
  }
  const onCall = (envelope: CallEnvelope) => {
    publish(envelope.reply, { accepted: envelope.call.id, replica, attempt: envelope.attempt } satisfies ReplyEnvelope)
    if (!envelope.claim) return void run(envelope)
    const key = grantKey(envelope.reply, envelope.call.id, envelope.attempt)
    const timer = setTimeout(() => grants.delete(key), GRANT_TIMEOUT_MS)
    grants.set(key, (ok) => {
      clearTimeout(timer)
      grants.delete(key)
      if (ok) void run(envelope)
    })
  }
  client.on('message', (topic, payload) => {
    let value: unknown
    try {
      value = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    if (topic === topics.replica(replica)) {
      const g = value as GrantEnvelope
      grants.get(grantKey(g.reply, g.grant, g.attempt))?.(g.ok === true)
      return
    }
    const envelope = value as CallEnvelope
    if (typeof envelope?.reply === 'string' && typeof envelope.call?.method === 'string') onCall(envelope)
  })

  return {
    replica,
    async close() {
      client.options.reconnectPeriod = 0
      if (client.connected) await client.publishAsync(topics.presence(replica), presence('dead'), { qos: 1, retain: true }).catch(() => {})
      await client.endAsync(false).catch(() => {})
    },
  }
}
