/**
 * The zero-config MQTT broker: aedes, embedded in the host, on loopback (port 0 by default).
 * Every client must authenticate; a plugin's credentials allow it to publish and subscribe only
 * under `polyplug/<its id>/`, the host's under all of `polyplug/`. The same policy is written
 * for an external Mosquitto by test/support/mosquitto.ts.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { importOptional } from '../deps/optional.js'
import { TOPIC_ROOT } from './mqtt.js'

export interface BrokerUser {
  password: string
  /** Topic prefix the user may use, e.g. `polyplug/echo/`. */
  prefix: string
}

export interface EmbeddedBroker {
  /** mqtt://127.0.0.1:PORT */
  readonly url: string
  readonly port: number
  /** Adds (or replaces) a user; returns its password (generated when not given). */
  addUser(username: string, prefix: string, password?: string): string
  removeUser(username: string): void
  /** Cuts the connections of a user's clients without a goodbye, as a crash would. */
  disconnect(username: string): Promise<void>
  /** Refusals seen (bad credentials, forbidden topics): for logs and tests. */
  readonly refusals: { client: string | undefined; what: 'connect' | 'publish' | 'subscribe'; topic?: string }[]
  close(): Promise<void>
}

/** The prefix a plugin may use. */
export function pluginPrefix(pluginId: string): string {
  return `${TOPIC_ROOT}/${pluginId}/`
}

function allowed(prefix: string, topic: string): boolean {
  return topic.startsWith(prefix) && !topic.slice(0, prefix.length).includes('+') && !topic.slice(0, prefix.length).includes('#')
}

export async function startEmbeddedBroker(options: { host?: string; port?: number; unref?: boolean } = {}): Promise<EmbeddedBroker> {
  const users = new Map<string, BrokerUser>()
  const refusals: EmbeddedBroker['refusals'] = []
  const prefixOf = (client: { id: string } | null) => (client ? clientUsers.get(client.id) : undefined)
  const clientUsers = new Map<string, string>()
  const clientNames = new Map<string, string>()

  // aedes is an optional package: only hosts that run mqtt plugins with the embedded broker load it.
  const { Aedes } = await importOptional<typeof import('aedes')>('aedes', 'the embedded MQTT broker (transport "mqtt" without POLYPLUG_MQTT_URL)')
  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const user = username === undefined ? undefined : users.get(username)
      const given = Buffer.from(password ?? '')
      const ok = user !== undefined && given.length === Buffer.byteLength(user.password) && timingSafeEqual(given, Buffer.from(user.password))
      if (!ok) {
        refusals.push({ client: username, what: 'connect' })
        const error = Object.assign(new Error('bad username or password'), { returnCode: 4 })
        return done(error, false)
      }
      clientUsers.set(client.id, user.prefix)
      clientNames.set(client.id, username as string)
      done(null, true)
    },
    authorizePublish(client, packet, done) {
      const prefix = prefixOf(client)
      if (client === null || (prefix !== undefined && allowed(prefix, packet.topic))) return done(null)
      refusals.push({ client: client.id, what: 'publish', topic: packet.topic })
      done(new Error(`publish to ${packet.topic} not allowed`))
    },
    authorizeSubscribe(client, subscription, done) {
      const prefix = prefixOf(client)
      if (prefix !== undefined && allowed(prefix, subscription.topic)) return done(null, subscription)
      refusals.push({ client: client.id, what: 'subscribe', topic: subscription.topic })
      done(null, null) // SUBACK 0x80 for this topic; the connection stays up
    },
  })
  broker.on('clientDisconnect', (client) => {
    clientUsers.delete(client.id)
    clientNames.delete(client.id)
  })
  const sockets = new Set<Socket>()
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    broker.handle(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  // The broker serves its host; it must not keep the host's process alive on its own.
  if (options.unref) {
    server.unref()
    // aedes' own housekeeping timers (heartbeat, will checks) are ref'd; unref them too.
    const timers = broker as unknown as { _heartbeatInterval?: { unref?(): void }; _clearWillInterval?: { unref?(): void } }
    timers._heartbeatInterval?.unref?.()
    timers._clearWillInterval?.unref?.()
  }
  const { address, port } = server.address() as AddressInfo
  return {
    url: `mqtt://${address}:${port}`,
    port,
    refusals,
    addUser(username, prefix, password = randomBytes(16).toString('hex')) {
      users.set(username, { password, prefix })
      return password
    },
    removeUser(username) {
      users.delete(username)
    },
    async disconnect(username) {
      const clients = (broker as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients
      for (const [id, name] of clientNames) if (name === username) clients[id]?.conn.destroy()
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
