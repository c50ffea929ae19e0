/**
 * `mqtt` transport: host and plugin talk through a broker, under the plugin's own namespace:
 *
 *   polyplug/<plugin-id>/to-plugin   host -> plugin (requests, notifications, responses)
 *   polyplug/<plugin-id>/to-host     plugin -> host
 *
 * The payload is one JSON-RPC message: JSON text, or — once `$/hello` agreed on bytes as
 * attachments — JSON with attachments when the message holds bytes (transports/message-wire.ts;
 * a payload that cannot be read is answered with PARSE_ERROR). Its `id` is the correlation id and the reply topic is the
 * opposite topic of the pair, so request/response works on any MQTT 3.1.1 broker (aedes 1.x).
 * On an MQTT 5 connection requests also carry the standard Response Topic and Correlation Data
 * properties, and the answering side replies to the Response Topic it was given.
 * QoS per kind: requests, responses and `$/cancel` at QoS 1 (must arrive); other notifications
 * (`$/log`, `$/progress`) at QoS 0.
 *
 * MQTT has no end-of-stream, so a side publishes `$/gone` to the other before a clean close, and
 * the other side's channel then closes. No Last Will is used: brokers (Mosquitto) publish every
 * client's will when they shut down, which would turn a broker restart into a plugin death. A
 * side that vanishes silently is found by heartbeats (`$/ping`) instead, or by its process exit.
 *
 * Broker loss does not close the channel: calls this side has in flight fail at once with
 * TRANSPORT_UNAVAILABLE (answered locally), sends while disconnected fail the same way, the
 * client reconnects with backoff and resubscribes, and calls work again when the broker returns.
 */
import type { IClientOptions, MqttClient, IPublishPacket } from 'mqtt'
import { importOptional } from '../deps/optional.js'
import { normalizeChannel } from '../channels/normalize.js'
import type { Channel, ChannelSink } from '../channels/channel.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { DialRequest } from '../registry/types.js'
import { errorToWire, mustArrive, type RequestId } from '../rpc/wire.js'
import { decodeWire, malformedAnswer, MessageWire, wireBuffer } from './message-wire.js'

export type MqttSide = 'host' | 'plugin'

export const TOPIC_ROOT = 'polyplug'

/** The topic a side listens on. */
export function inboxTopic(pluginId: string, side: MqttSide): string {
  return `${TOPIC_ROOT}/${pluginId}/${side === 'host' ? 'to-host' : 'to-plugin'}`
}

export interface MqttConnectOptions {
  /** mqtt://host:port or mqtts://. */
  url: string
  pluginId: string
  side: MqttSide
  username?: string
  password?: string
  /** 4 (3.1.1, default) or 5. */
  protocolVersion?: 4 | 5
  /** Trusted CA (PEM) for mqtts://. */
  ca?: string | Buffer
  /** First reconnect delay in ms; doubles up to 5 s. Default 100. */
  reconnectMs?: number
  connectTimeoutMs?: number
}

/** Connects, subscribes to this side's inbox, and returns the Channel (which owns the client). */
export async function connectMqtt(options: MqttConnectOptions): Promise<Channel> {
  const base = options.reconnectMs ?? 100
  const clientOptions: IClientOptions = {
    protocolVersion: options.protocolVersion ?? 4,
    clean: true,
    reconnectPeriod: base,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    // Let a failed first connect reject instead of retrying forever.
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  }
  // mqtt is an optional package: only hosts with mqtt plugins load it.
  const { connectAsync } = await importOptional<typeof import('mqtt')>('mqtt', 'the mqtt transport')
  let client: MqttClient
  try {
    client = await connectAsync(options.url, { ...clientOptions, reconnectPeriod: 0 })
  } catch (error) {
    const code = /not authorized|bad user|Connection refused: Bad|Not authorized/i.test(String((error as Error).message))
      ? ErrorCodes.PERMISSION_DENIED
      : ErrorCodes.TRANSPORT_UNAVAILABLE
    throw new PolyplugError(code, `cannot connect to MQTT broker ${options.url}: ${(error as Error).message}`, { cause: error })
  }
  // Nagle's algorithm costs ~40 ms per QoS 1 round trip; every (re)connection gets a fresh socket.
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true)
  noDelay()
  client.on('connect', noDelay)
  // Reconnect with backoff from here on: the delay doubles per failed attempt, reset on success.
  client.options.reconnectPeriod = base
  // (Both stop once the channel zeroes reconnectPeriod on close: 0 means "never reconnect".)
  client.on('connect', () => client.options.reconnectPeriod !== 0 && (client.options.reconnectPeriod = base))
  client.on('offline', () => (client.options.reconnectPeriod = Math.min(5000, (client.options.reconnectPeriod ?? base) * 2)))
  client.on('error', () => {}) // surfaced as 'close'/'offline'; a listener keeps EventEmitter from throwing
  const inbox = inboxTopic(options.pluginId, options.side)
  const granted = await client.subscribeAsync(inbox, { qos: 1 }).catch(() => [{ qos: 128 }])
  // Mosquitto grants a forbidden MQTT 3.1.1 subscription and then delivers nothing: a probe
  // message to our own inbox tells an allowed subscription from a silently refused one.
  if (granted.some((g) => g.qos === 128) || !(await probe(client, inbox))) {
    await client.endAsync(true)
    throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `broker refused the subscription to ${inbox}`)
  }
  return mqttChannel(client, options.pluginId, options.side)
}

const GONE = '$/gone'
const PROBE = '$/probe'

function probe(client: MqttClient, inbox: string, timeoutMs = 3000): Promise<boolean> {
  const nonce = Math.random().toString(36).slice(2)
  const text = JSON.stringify({ jsonrpc: '2.0', method: PROBE, params: { nonce } })
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      client.off('message', onMessage)
      resolve(ok)
    }
    const onMessage = (topic: string, payload: Buffer) => {
      if (topic === inbox && payload.toString() === text) done(true)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    client.on('message', onMessage)
    client.publish(inbox, text, { qos: 1 }, (error) => error && done(false))
  })
}

function goneMessage(clean: boolean): string {
  return JSON.stringify({ jsonrpc: '2.0', method: GONE, params: { clean } })
}

/** A Channel over a connected client already subscribed to `inboxTopic(pluginId, side)`. */
export function mqttChannel(client: MqttClient, pluginId: string, side: MqttSide): Channel {
  const inbox = inboxTopic(pluginId, side)
  const outbox = inboxTopic(pluginId, side === 'host' ? 'plugin' : 'host')
  const v5 = client.options.protocolVersion === 5
  // Requests this side sent and has not seen answered: failed locally when the broker goes away.
  const awaiting = new Set<RequestId>()
  // MQTT 5: where the other side asked for each answer to go.
  const replyTo = new Map<RequestId, { topic: string; correlation: Buffer | undefined }>()
  let sink!: ChannelSink
  const wire = new MessageWire()

  const failAwaiting = (why: string) => {
    for (const id of awaiting) {
      const error = new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `MQTT broker connection lost (${why})`)
      sink.message({ jsonrpc: '2.0', id, error: errorToWire(error) })
    }
    awaiting.clear()
  }
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (topic !== inbox) return
    let value: unknown
    try {
      value = decodeWire(payload)
    } catch (error) {
      if (client.connected) client.publish(outbox, wireBuffer(wire.encode(malformedAnswer(error))), { qos: 1 }, () => {})
      return
    }
    const m = value as { id?: RequestId; method?: string; params?: { clean?: boolean } }
    if (m.method === PROBE) return
    if (m.method === GONE) {
      const clean = m.params?.clean === true
      sink.closed(clean ? undefined : new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `the ${side === 'host' ? 'plugin' : 'host'} left the broker without closing`))
      void release(false)
      return
    }
    if (m.id !== undefined && m.id !== null) {
      if (m.method === undefined) awaiting.delete(m.id)
      else if (v5 && packet.properties?.responseTopic) {
        replyTo.set(m.id, { topic: packet.properties.responseTopic, correlation: packet.properties.correlationData })
      }
    }
    sink.message(value)
  }
  const onClose = () => failAwaiting('closed')
  const onOffline = () => failAwaiting('offline')

  let released: Promise<void> | undefined
  const release = (sayGoodbye: boolean) =>
    (released ??= (async () => {
      client.off('message', onMessage)
      client.off('close', onClose)
      client.off('offline', onOffline)
      // A connect attempt still in flight would otherwise schedule one more reconnect after `end`.
      client.options.reconnectPeriod = 0
      if (sayGoodbye && client.connected) await client.publishAsync(outbox, goneMessage(true), { qos: 1 }).catch(() => {})
      // A clean DISCONNECT: the broker drops the Last Will.
      if (!client.connected) return client.endAsync(true)
      const timer = setTimeout(() => void client.endAsync(true), 1000)
      await client.endAsync(false).finally(() => clearTimeout(timer))
    })())

  return normalizeChannel({
    carries: 'structured-clone', // encoded here: request ids are tracked by shape
    binary: true, // a payload is any byte sequence
    useCodec: (codec) => wire.use(codec),
    open(s) {
      sink = s
      client.on('message', onMessage)
      client.on('close', onClose)
      client.on('offline', onOffline)
    },
    send(message) {
      if (!client.connected) {
        throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'MQTT broker is not connected')
      }
      const m = message as { id?: RequestId; method?: string }
      const isRequest = m.method !== undefined && m.id !== undefined
      const isResponse = m.method === undefined
      const qos = isRequest || isResponse || mustArrive(m.method!) ? 1 : 0
      let topic = outbox
      const properties: IPublishPacket['properties'] = {}
      if (isRequest) {
        awaiting.add(m.id!)
        if (v5) {
          properties.responseTopic = inbox
          properties.correlationData = Buffer.from(String(m.id))
        }
      } else if (isResponse && m.id !== undefined && m.id !== null) {
        const to = replyTo.get(m.id)
        if (to) {
          replyTo.delete(m.id)
          topic = to.topic
          if (to.correlation) properties.correlationData = to.correlation
        }
      }
      return new Promise<void>((resolve, reject) => {
        const form = wire.encode(message)
        client.publish(topic, typeof form.data === 'string' ? form.data : wireBuffer(form), { qos, ...(v5 ? { properties } : {}) }, (error) => {
          if (!error) return resolve()
          if (isRequest) awaiting.delete(m.id!)
          reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `MQTT publish failed: ${error.message}`, { cause: error }))
        })
      })
    },
    close() {
      return release(true)
    },
  })
}

/** `remote` over mqtt(s)://[user@]host:port: the token is the password, the user defaults to polyplug-host. */
export function dialMqtt({ id, url, token, ca }: DialRequest): Promise<Channel> {
  const parsed = new URL(url)
  const password = token ?? decodeURIComponent(parsed.password)
  return connectMqtt({
    url: `${parsed.protocol}//${parsed.host}`,
    pluginId: id,
    side: 'host',
    username: decodeURIComponent(parsed.username) || 'polyplug-host',
    ...(password ? { password } : {}),
    ...(ca ? { ca } : {}),
  })
}
