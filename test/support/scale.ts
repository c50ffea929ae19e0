/**
 * A replica pool on one machine, for test/scale-out.test.ts and the bench: a Mosquitto with pool
 * ACLs and persistence, `polyplug serve` children, and plugin folders for hosts (one per host user).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, poolUsers, startMosquitto, writeMosquittoConfig, type MosquittoFiles, type RunningMosquitto } from './mosquitto.js'
import { cliPath, fixturesDir } from './paths.js'

export const POOL_ID = 'scale-work'

export interface PoolBroker {
  readonly dir: string
  readonly port: number
  readonly files: MosquittoFiles
  broker: RunningMosquitto
  /** SIGTERM, then the same broker again on the same port (sessions kept by persistence). */
  restart(): Promise<void>
  /** `restart` in two halves, for what happens while the broker is away. */
  stop(): Promise<void>
  start(): Promise<void>
}

export const replicaUser = (n: number) => ({ username: `replica-${n}`, password: `replica-secret-${n}` })
export const hostUser = (n: number) => ({ username: `host-${n}`, password: `host-secret-${n}` })

export async function startPoolBroker(dir: string, counts: { hosts: number; replicas: number }, extra: { tls?: { cert: string; key: string } } = {}): Promise<PoolBroker> {
  const port = await freePort()
  const users = poolUsers(
    POOL_ID,
    Array.from({ length: counts.hosts }, (_, i) => hostUser(i + 1)),
    Array.from({ length: counts.replicas }, (_, i) => replicaUser(i + 1)),
  )
  const files = await writeMosquittoConfig(dir, { port, users, persistence: true, ...extra })
  const pool: PoolBroker = {
    dir,
    port,
    files,
    broker: await startMosquitto(files.config, port),
    async restart() {
      await pool.stop()
      await pool.start()
    },
    stop: () => pool.broker.stop(),
    async start() {
      pool.broker = await startMosquitto(files.config, port)
    },
  }
  return pool
}

/** A plugin folder for host `n`: the fixture's code and a manifest pointing at the pool. */
export async function poolPluginDir(root: string, url: string, n: number, options: { idempotent?: string[]; graceMs?: number; ca?: string } = {}): Promise<string> {
  const dir = join(root, `host-${n}`, POOL_ID)
  await mkdir(dir, { recursive: true })
  await cp(join(fixturesDir, 'scale', 'index.js'), join(dir, 'index.js'))
  const { username } = hostUser(n)
  const manifest = {
    id: POOL_ID,
    version: '1.0.0',
    kind: 'js',
    entry: 'index.js',
    placement: 'remote',
    remote: { url: url.replace('://', `://${username}@`), tokenEnv: `SCALE_HOST_${n}_PASSWORD`, ...(options.ca ? { ca: options.ca } : {}) },
    scale: { idempotent: options.idempotent ?? ['square', 'burn'], ...(options.graceMs ? { graceMs: options.graceMs } : {}) },
  }
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify(manifest, null, 2))
  process.env[`SCALE_HOST_${n}_PASSWORD`] = hostUser(n).password
  return join(root, `host-${n}`)
}

export interface ReplicaProcess {
  readonly child: ChildProcess
  readonly name: string
  readonly pid: number
  stop(): Promise<void>
}

/** `polyplug serve` as a child process, resolved once it prints `ready`. */
export async function startReplica(pluginDir: string, url: string, n: number, env: Record<string, string> = {}, ca?: string): Promise<ReplicaProcess> {
  const { username, password } = replicaUser(n)
  const child = spawn(process.execPath, [cliPath, 'serve', pluginDir, '--broker', url, '--username', username, '--password-env', 'REPLICA_PASSWORD', ...(ca ? ['--ca', ca] : [])], {
    env: { ...process.env, ...env, REPLICA_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      if (out.includes('ready ')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`replica ${n} exited (${code}) before it was ready: ${err}`)))
  })
  return {
    child,
    name: username,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
