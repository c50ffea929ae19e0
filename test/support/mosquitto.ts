/**
 * Configuration for an external Mosquitto broker with the same policy as the embedded one:
 * a `password_file` (written with `mosquitto_passwd -b`, from Debian's `mosquitto` package), an
 * `acl_file` restricting each plugin to `polyplug/<id>/#`, and a config with `set_tcp_nodelay
 * true` (without it Nagle's algorithm costs ~44 ms per QoS 1 round trip). `startMosquitto` runs
 * one as a child process on loopback (tests and local setups; production brokers run elsewhere).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo } from 'node:net'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PolyplugError } from '../../src/rpc/errors.js'
import { ErrorCodes } from '../../src/errors/index.js'
import { TOPIC_ROOT } from '../../src/transports/mqtt.js'
import { until } from './wait.js'

const run = promisify(execFile)

export interface MosquittoUser {
  username: string
  password: string
  /** Topic filter this user may read and write, e.g. `polyplug/echo/#`. */
  topics?: string
  /** Or ACL lines of its own, e.g. `topic read polyplug/echo/calls`. */
  acl?: string[]
}

export interface MosquittoFiles {
  config: string
  passwordFile: string
  aclFile: string
}

/** ACL lines: each user may read and write only its own filter. */
export function mosquittoAcl(users: MosquittoUser[]): string {
  return users.map((u) => `user ${u.username}\n${(u.acl ?? [`topic readwrite ${u.topics}`]).join('\n')}\n`).join('\n')
}

/**
 * The users of a replica pool (docs/scale-out.md): each host publishes calls, grants to replicas
 * and reads presence, and reads only answers under `hosts/<its user>/`; each replica (named after
 * its user) reads calls (through the shared subscription) and its own grants, answers any host,
 * and writes only its own presence.
 */
export function poolUsers(pluginId: string, hosts: { username: string; password: string }[], replicas: { username: string; password: string }[]): MosquittoUser[] {
  const base = `${TOPIC_ROOT}/${pluginId}`
  return [
    ...hosts.map((h) => ({
      ...h,
      acl: [`topic write ${base}/calls`, `topic readwrite ${base}/hosts/${h.username}/#`, `topic write ${base}/replicas/+`, `topic read ${base}/presence/+`],
    })),
    ...replicas.map((r) => ({
      ...r,
      acl: [`topic read ${base}/calls`, `topic read ${base}/replicas/${r.username}`, `topic write ${base}/hosts/#`, `topic readwrite ${base}/presence/${r.username}`],
    })),
  ]
}

/** The users for a host and its plugins: the host gets `polyplug/#`, each plugin its own subtree. */
export function policyUsers(host: { username: string; password: string }, plugins: { id: string; password: string }[]): MosquittoUser[] {
  return [
    { username: host.username, password: host.password, topics: `${TOPIC_ROOT}/#` },
    ...plugins.map((p) => ({ username: p.id, password: p.password, topics: `${TOPIC_ROOT}/${p.id}/#` })),
  ]
}

/** Writes config, password file and ACL file into `dir`. */
/** `persistence`: keep sessions, subscriptions and queued QoS 1 messages across a restart (in `dir`). */
export async function writeMosquittoConfig(dir: string, options: { port: number; host?: string; users: MosquittoUser[]; persistence?: boolean; tls?: { cert: string; key: string } }): Promise<MosquittoFiles> {
  const passwordFile = join(dir, 'passwd')
  const aclFile = join(dir, 'acl')
  const config = join(dir, 'mosquitto.conf')
  await writeFile(passwordFile, '', { mode: 0o600 })
  for (const user of options.users) {
    try {
      await run('mosquitto_passwd', ['-b', passwordFile, user.username, user.password])
    } catch (cause) {
      throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'mosquitto_passwd failed (is the Debian package `mosquitto` installed?)', { cause })
    }
  }
  await writeFile(aclFile, mosquittoAcl(options.users), { mode: 0o600 })
  await writeFile(
    config,
    [
      `listener ${options.port} ${options.host ?? '127.0.0.1'}`,
      // Run as whoever started it: as root, mosquitto would switch to user `mosquitto`, who cannot read these files.
      `user ${userInfo().username}`,
      'allow_anonymous false',
      `password_file ${passwordFile}`,
      `acl_file ${aclFile}`,
      'set_tcp_nodelay true',
      ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1'] : ['persistence false']),
      ...(options.tls ? [`certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`] : []),
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  )
  return { config, passwordFile, aclFile }
}

/** A free TCP port on loopback (closed again at once; good enough for a child we start next). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface RunningMosquitto {
  readonly url: string
  readonly process: ChildProcess
  /** Stops it (SIGTERM) and waits for exit. */
  stop(): Promise<void>
}

/** Starts `mosquitto -c config` and resolves once it accepts connections on `port`. */
export async function startMosquitto(config: string, port: number): Promise<RunningMosquitto> {
  const child = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject))
  // Polls until the broker accepts a connection; one that exits (or never listens) is reported with its stderr.
  let gone = false
  void exited.then(() => (gone = true))
  const listening = until(async () => gone || (await canConnect(port)), 0, `mosquitto listening on port ${port}`)
  try {
    await Promise.race([listening, spawnError])
    if (gone) throw new Error('mosquitto exited')
  } catch {
    child.kill('SIGKILL')
    throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `mosquitto did not start: ${stderr.trim()}`)
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}
