/**
 * `remote`: a plugin already running elsewhere (started by someone else, maybe on another
 * machine), reached by the address in its manifest's `remote.url`, dialled by the `remote` side
 * of its transport's module. The host authenticates with
 * the configured token (sent to http/ws servers, used as the MQTT password, and expected back in
 * `$/hello` like a launch token), uses TLS where the scheme has it (https, wss, mqtts), and
 * heartbeats the plugin with `$/ping`: one missed answer closes the channel with
 * TRANSPORT_UNAVAILABLE, so calls fail cleanly. A remote plugin cannot be restarted or killed;
 * `kill` only drops the connection, and the next call connects again.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Channel } from '../channels/channel.js'
import { normalizeChannel } from '../channels/normalize.js'
import { jsonCodec } from '../rpc/codec.js'
import { hasAttachments } from '../rpc/attachments.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { Reserved } from '../rpc/wire.js'
import { transportModule } from '../registry/index.js'
import type { Scale } from '../manifest/schema.js'
import { PROTOCOL_VERSION } from '../sdk/protocol.js'
import type { Launched, LaunchSpec } from './placement.js'

const PING_ID_PREFIX = '$remote-ping-'
const PING_PREFIX_BYTES = Buffer.from(PING_ID_PREFIX)

export async function launchRemote(spec: LaunchSpec): Promise<Launched> {
  const remote = spec.loaded.manifest.remote
  if (!remote) throw new PolyplugError(ErrorCodes.MANIFEST_INVALID, 'placement "remote" needs a `remote` object with the plugin\'s url', { plugin: spec.id })
  const token = remote.tokenEnv ? process.env[remote.tokenEnv] : remote.token
  if (remote.tokenEnv && !token) throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `${remote.tokenEnv} is not set`, { plugin: spec.id })
  const ca = remote.ca ? await readFile(resolve(spec.loaded.dir, remote.ca)) : undefined
  const scale = spec.loaded.manifest.scale
  if (scale) return launchPool(spec, remote.url, token, ca, scale)
  const inner = await connectTo(spec.id, remote.url, spec.loaded.manifest.transport, token, ca).catch((error: unknown) => {
    throw error instanceof PolyplugError ? error.withContext(spec.id, undefined) : new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, String(error), { plugin: spec.id })
  })
  const channel = withHeartbeat(spec.id, inner, remote.pingIntervalMs ?? 5000)
  return {
    channel,
    isolated: false,
    ...(token ? { token } : {}),
    kill: (reason) => channel.close(reason),
  }
}

/**
 * A pool of replicas behind a broker (manifest `scale`): no heartbeat of its own — replicas come
 * and go, and the pool tracks their presence (docs/scale-out.md).
 */
async function launchPool(spec: LaunchSpec, url: string, token: string | undefined, ca: Buffer | undefined, scale: Scale): Promise<Launched> {
  const connect = await transportModule(spec.loaded.manifest.transport)?.remote?.pool?.()
  if (!connect) throw new PolyplugError(ErrorCodes.MANIFEST_INVALID, `transport "${spec.loaded.manifest.transport}" cannot reach a pool of replicas`, { plugin: spec.id })
  const pool = await connect({ id: spec.id, url, token, ca, idempotent: scale.idempotent ?? [], hello: { protocol: PROTOCOL_VERSION, id: spec.id, methods: [], encodings: ['json'] }, graceMs: scale.graceMs }).catch((error: unknown) => {
    throw error instanceof PolyplugError ? error.withContext(spec.id, undefined) : new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, String(error), { plugin: spec.id })
  })
  return { channel: pool.channel, isolated: false, pool: () => pool.view(), kill: (reason) => pool.channel.close(reason) }
}

/** Dials `url` with the remote side of the manifest's transport (which validation matched to the scheme). */
async function connectTo(id: string, url: string, transport: string, token: string | undefined, ca: Buffer | undefined): Promise<Channel> {
  const side = transportModule(transport)?.remote
  if (!side) throw new PolyplugError(ErrorCodes.MANIFEST_INVALID, `transport "${transport}" cannot reach a remote plugin (${url})`, { plugin: id })
  const dial = await side.dial()
  return dial({ id, url, token, ca })
}

/**
 * Pings through the channel on a timer, below the Peer: the answers (ids this wrapper made up)
 * never reach the Peer. A ping not answered before the next one is due closes the channel.
 */
function withHeartbeat(plugin: string, inner: Channel, intervalMs: number): Channel {
  let seq = 0
  let outstanding: string | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  const text = inner.carries === 'text'
  const bytes = inner.carries === 'bytes'
  const encode = (m: unknown) => (text ? JSON.stringify(m) : bytes ? jsonCodec.encode(m) : m)
  const idOf = (m: unknown): unknown => {
    if (bytes) {
      // Every incoming frame passes here: look for the ping id in the raw bytes before decoding.
      const b = m as Uint8Array
      // A message with attachments is never a ping's answer: its payload is not searched.
      if (hasAttachments(b)) return undefined
      if (Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(PING_PREFIX_BYTES) < 0) return undefined
    }
    if (text || bytes) {
      const s = text ? (m as string) : new TextDecoder().decode(m as Uint8Array)
      if (!s.includes(PING_ID_PREFIX)) return undefined
      try {
        return (JSON.parse(s) as { id?: unknown }).id
      } catch {
        return undefined
      }
    }
    return (m as { id?: unknown } | null)?.id
  }
  return normalizeChannel({
    carries: inner.carries,
    // Bytes as attachments pass through: the wrapper's pings are plain JSON either way.
    ...(inner.binary ? { binary: true } : {}),
    ...(inner.useCodec ? { useCodec: inner.useCodec.bind(inner) } : {}),
    open(sink) {
      inner.onMessage((message) => {
        const id = idOf(message)
        if (typeof id === 'string' && id.startsWith(PING_ID_PREFIX)) {
          // A channel's own answer to a request it could not deliver (http's POSTs) is no sign of
          // life; any other answer, an error too, is the plugin's.
          if (id === outstanding && !isUndelivered(message)) outstanding = undefined
          return
        }
        sink.message(message)
      })
      inner.onClose((error) => {
        if (timer) clearInterval(timer)
        sink.closed(error ?? new PolyplugError(ErrorCodes.PLUGIN_CRASHED, 'the remote plugin closed the connection', { plugin }))
      })
      timer = setInterval(() => {
        if (outstanding !== undefined) {
          clearInterval(timer)
          const error = new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `the remote plugin missed a heartbeat (${intervalMs} ms)`, { plugin })
          sink.closed(error)
          void inner.close(error)
          return
        }
        outstanding = `${PING_ID_PREFIX}${++seq}`
        Promise.resolve(inner.send(encode({ jsonrpc: '2.0', id: outstanding, method: Reserved.ping }))).catch(() => {})
      }, intervalMs)
      timer.unref()
    },
    send: (message) => inner.send(message),
    ...(inner.sendText ? { sendText: inner.sendText.bind(inner) } : {}),
    close(reason) {
      if (timer) clearInterval(timer)
      return inner.close(reason)
    },
  })
}

/**
 * A decoded answer (a self-encoding channel's) that its channel made because it could not deliver
 * the request: TRANSPORT_UNAVAILABLE, or an answer that carries the HTTP status the POST met (401,
 * 413, …). A plugin's own answer to `$/ping` is neither. Text and bytes are not looked into.
 */
function isUndelivered(message: unknown): boolean {
  const error = typeof message === 'object' && message !== null ? (message as { error?: { data?: { code?: unknown; data?: { status?: unknown } } } }).error : undefined
  return error?.data?.code === ErrorCodes.TRANSPORT_UNAVAILABLE || typeof error?.data?.data?.status === 'number'
}
