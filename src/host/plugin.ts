/**
 * One installed plugin as the host sees it: lazy start, handshake, calls, and supervision
 * (a crash rejects in-flight calls at once; a call timeout on an isolated plugin triggers a
 * heartbeat, and a plugin that cannot answer it is terminated as hung).
 */
import type { LoadedManifest } from '../manifest/load.js'
import type { Manifest } from '../manifest/schema.js'
import type { Launched } from '../placement/placement.js'
import { launcherFor } from '../placement/registry.js'
import { ErrorCodes, PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { Peer } from '../rpc/peer.js'
import type { CallOptions, Remote } from '../rpc/types.js'
import { Reserved } from '../rpc/wire.js'
import { PROTOCOL_VERSION, type HelloParams, type HelloResult, type LogParams } from '../sdk/protocol.js'
import { HOST_VERSION, registerHostApi, type HostApi } from './host-api.js'
import type { HostLogger } from './log.js'
import { RestartPolicy, type RestartPolicyOptions } from './supervisor.js'

export type PluginState = 'inactive' | 'starting' | 'active' | 'stopping' | 'failed'

export interface PluginInfo {
  id: string
  version: string
  kind: Manifest['kind']
  placement: Manifest['placement']
  transport: Manifest['transport']
  entry: string
  dir: string
  status: PluginState
  /** The event that last activated the plugin, e.g. `onMethod:echo`. */
  activationReason?: string
  /** Milliseconds to launch (load the module, start the worker) and to run the handshake plus `activate`. */
  loadMs?: number
  activateMs?: number
  /** Methods the plugin reported in its handshake. */
  methods?: string[]
  lastError?: { code: string; message: string }
}

export interface PluginRuntimeOptions {
  api: HostApi
  logger: HostLogger
  /** Default call timeout when the manifest gives none. */
  callTimeoutMs: number
  startTimeoutMs: number
  /** How long a plugin has to answer a heartbeat after a call timed out. */
  pingTimeoutMs: number
  config?: Record<string, unknown>
  /** Backoff and circuit breaker for plugins that crash (src/host/supervisor.ts). */
  restart?: RestartPolicyOptions
}

interface Session {
  launched: Launched
  peer: Peer
}

export class PluginRuntime {
  readonly id: string
  readonly #loaded: LoadedManifest
  readonly #options: PluginRuntimeOptions
  #state: PluginState = 'inactive'
  #session: Session | undefined
  #starting: Promise<Session> | undefined
  #info: Partial<PluginInfo> = {}
  readonly #restart: RestartPolicy

  constructor(loaded: LoadedManifest, options: PluginRuntimeOptions) {
    this.id = loaded.manifest.id
    this.#loaded = loaded
    this.#options = options
    this.#restart = new RestartPolicy(this.id, options.restart)
  }

  /** Closes the circuit breaker after the plugin was quarantined for crashing too often. */
  reset(): void {
    this.#restart.reset()
    if (this.#state === 'failed') this.#state = 'inactive'
  }

  /** The plugin's process id while it runs in its own process. */
  get pid(): number | undefined {
    return this.#session?.launched.pid
  }

  get state(): PluginState {
    return this.#state
  }

  get manifest(): Manifest {
    return this.#loaded.manifest
  }

  info(): PluginInfo {
    const m = this.#loaded.manifest
    return {
      id: m.id,
      version: m.version,
      kind: m.kind,
      placement: m.placement,
      transport: m.transport,
      entry: m.entry,
      dir: this.#loaded.dir,
      status: this.#state,
      ...this.#info,
    }
  }

  /** Starts the plugin if it is not running; concurrent callers share one start. */
  activate(reason = 'explicit'): Promise<Session> {
    if (this.#session && this.#state === 'active') return Promise.resolve(this.#session)
    this.#starting ??= this.#start(reason).finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async call<T = unknown>(method: string, args: unknown[] = [], options: CallOptions = {}): Promise<T> {
    const session = await this.activate(`onMethod:${method}`)
    try {
      return await session.peer.call<T>(method, args, options)
    } catch (error) {
      if (error instanceof PolyplugError && error.code === ErrorCodes.RPC_TIMEOUT) this.#checkAlive(session)
      throw error
    }
  }

  proxy<Api>(options: CallOptions = {}): Remote<Api> {
    return new Proxy(Object.create(null) as object, {
      get: (_t, key) => (typeof key !== 'string' || key === 'then' ? undefined : (...args: unknown[]) => this.call(key, args, options)),
    }) as Remote<Api>
  }

  /** Asks the plugin to deactivate, then stops it; a plugin that does not answer is killed. */
  async stop(): Promise<void> {
    const session = this.#session ?? (await this.#starting?.catch(() => undefined))
    if (!session) return
    this.#state = 'stopping'
    await session.peer.call(Reserved.shutdown, undefined, { timeout: 2000 }).catch(() => {})
    await session.launched.kill()
  }

  async #start(reason: string): Promise<Session> {
    const quarantined = this.#restart.quarantined
    if (quarantined) {
      this.#state = 'failed'
      throw quarantined
    }
    const backoff = this.#restart.delayBeforeStart()
    if (backoff > 0) await new Promise((r) => setTimeout(r, backoff))
    this.#state = 'starting'
    const launcher = launcherFor(this.manifest.placement)
    const t0 = performance.now()
    let launched: Launched | undefined
    try {
      if (!launcher) {
        throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `placement "${this.manifest.placement}" is not supported yet`, { plugin: this.id })
      }
      launched = await launcher({
        id: this.id,
        loaded: this.#loaded,
        startTimeoutMs: this.#options.startTimeoutMs,
        log: (level, message) => this.#options.logger({ level, plugin: this.id, message }),
      })
      const t1 = performance.now()
      const peer = this.#connect(launched)
      const hello = await peer.call<HelloResult>(Reserved.hello, this.#helloParams() as unknown as Record<string, unknown>, {
        timeout: this.#options.startTimeoutMs,
      }).catch((error: unknown) => {
        throw toPolyplugError(error).code === ErrorCodes.RPC_TIMEOUT
          ? new PolyplugError(ErrorCodes.PLUGIN_START_TIMEOUT, `no handshake within ${this.#options.startTimeoutMs} ms`, { plugin: this.id })
          : error
      })
      if (launched.token !== undefined && hello.token !== launched.token) {
        throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, 'the plugin answered $/hello without the launch token', { plugin: this.id })
      }
      this.#serveHost(peer) // only now: nothing is served to a peer that has not proven itself
      await peer.call(Reserved.activate, { config: this.#options.config ?? {}, reason }, { timeout: this.#options.startTimeoutMs }).catch((error: unknown) => {
        const e = toPolyplugError(error)
        throw new PolyplugError(ErrorCodes.ACTIVATION_FAILED, `activate failed: ${e.message}`, { plugin: this.id, cause: e, data: { code: e.code } })
      })
      const session = { launched, peer }
      this.#session = session
      this.#state = 'active'
      this.#info = { activationReason: reason, loadMs: t1 - t0, activateMs: performance.now() - t1, methods: hello.methods }
      return session
    } catch (error) {
      const e = toPolyplugError(error).withContext(this.id, undefined)
      this.#state = 'failed'
      this.#info = { ...this.#info, lastError: { code: e.code, message: e.message } }
      if (launched?.isolated ?? this.manifest.placement !== 'inline') this.#restart.recordCrash(e) // a failed start counts as a crash
      await launched?.kill(e).catch(() => {})
      throw e
    }
  }

  #helloParams(): HelloParams {
    return { protocol: [PROTOCOL_VERSION], plugin: this.id, host: { name: 'polyplug', version: HOST_VERSION, pid: process.pid }, encodings: ['json', 'msgpack'] }
  }

  #connect(launched: Launched): Peer {
    const timeout = this.manifest.limits?.callTimeoutMs ?? this.#options.callTimeoutMs
    const peer = new Peer(launched.channel, {
      name: this.id,
      timeout,
      ...(launched.codec ? { codec: launched.codec } : {}),
      onProtocolError: (error) => this.#options.logger({ level: 'warn', plugin: this.id, message: `protocol: ${error.code}: ${error.message}` }),
    })
    launched.channel.onClose((error) => this.#onClosed(peer, error))
    return peer
  }

  #serveHost(peer: Peer): void {
    registerHostApi(peer, this.id, this.#options.api)
    peer.handle(Reserved.log, (params) => {
      const { level, message } = (params ?? {}) as Partial<LogParams>
      this.#options.logger({ level: level ?? 'info', plugin: this.id, message: String(message) })
    })
  }

  #onClosed(peer: Peer, error?: Error): void {
    if (this.#session?.peer !== peer) return
    this.#session = undefined
    const stopping = this.#state === 'stopping'
    // A crashed plugin is restarted by the next call that needs it.
    this.#state = 'inactive'
    if (error && !stopping) {
      const e = toPolyplugError(error)
      this.#info.lastError = { code: e.code, message: e.message }
      this.#restart.recordCrash(e)
      if (this.#restart.quarantined) this.#state = 'failed'
      this.#options.logger({ level: 'error', plugin: this.id, message: `${e.code}: ${e.message}` })
    }
  }

  /** After a timeout: a plugin that cannot answer a ping is hung, and is terminated. */
  #checkAlive(session: Session): void {
    if (!session.launched.isolated || session.peer.closed) return
    session.peer.call(Reserved.ping, undefined, { timeout: this.#options.pingTimeoutMs }).catch((error: unknown) => {
      if (toPolyplugError(error).code !== ErrorCodes.RPC_TIMEOUT) return
      const reason = new PolyplugError(ErrorCodes.PLUGIN_HUNG, `no heartbeat within ${this.#options.pingTimeoutMs} ms after a call timed out; terminated`, { plugin: this.id })
      void session.launched.kill(reason)
    })
  }
}
