/**
 * One installed plugin as the host sees it: lazy start, handshake, calls, and supervision
 * (a crash rejects in-flight calls at once; a call timeout on an isolated plugin triggers a
 * heartbeat, and a plugin that cannot answer it is terminated as hung).
 */
import pidusage from 'pidusage'
import type { SandboxOptions } from '../placement/sandbox.js'
import { checkParams } from './params.js'
import type { LoadedManifest } from '../manifest/load.js'
import type { Manifest } from '../manifest/schema.js'
import type { Launched } from '../placement/placement.js'
import type { PoolView } from '../registry/types.js'
import { polyplugProtocol } from '../placement/protocol.js'
import { launcherFor } from '../placement/registry.js'
import { ErrorCodes, PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { BINARY_CAPABILITY, binaryJsonCodec, jsonReadingAttachments, mayAttach } from '../rpc/attachments.js'
import { jsonCodec } from '../rpc/codec.js'
import { Peer } from '../rpc/peer.js'
import { isStreamSource } from '../rpc/stream.js'
import type { CallOptions } from '../rpc/types.js'
import { Reserved } from '../rpc/wire.js'
import { PROTOCOL_VERSION, USAGE_METHOD, type HelloParams, type HelloResult, type LogParams } from '../sdk/protocol.js'
import { HOST_VERSION } from './host-api.js'
import type { HostLogger, LogLevel } from './log.js'
import { CallStats, type MethodStats } from './stats.js'
import { PluginNotifications } from './notifications.js'
import { RestartPolicy, type RestartPolicyOptions } from './supervisor.js'
import { traced } from './tracing.js'

/**
 * `inactive` (resolved, not running) → `starting` → `active` → `stopping` → `inactive`; `failed`
 * after a failed start (the next call retries); `disabled` by the application; `unavailable` when
 * resolution refused it (the reason is in `lastError`).
 */
export type PluginState = 'inactive' | 'starting' | 'active' | 'stopping' | 'failed' | 'disabled' | 'unavailable'

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
  /** Protocol features it reported in its handshake, e.g. `streams`. */
  capabilities?: string[]
  lastError?: { code: string; message: string }
  /** Resolved dependency plugin ids. */
  dependencies?: string[]
}

/** `host.stats()`: one row per plugin. */
export interface PluginStats {
  id: string
  status: PluginState
  activationReason?: string
  loadMs?: number
  activateMs?: number
  activations: number
  /** Starts after the first (after a stop, a reload or a crash). */
  restarts: number
  /** Crashes (and failed starts, hangs) since the host started, and within the restart policy's window. */
  crashes: number
  recentCrashes: number
  /** Set while the circuit breaker keeps the plugin from starting (`reset()` clears it). */
  quarantine?: { code: string; message: string }
  /** Milliseconds since the running instance became active. */
  uptimeMs?: number
  pid?: number
  calls: number
  errors: number
  /** Failed calls by error code, over all methods. */
  errorsByCode: Record<string, number>
  /** Latency percentiles (ms) over the most recent calls of every method. */
  p50: number
  p99: number
  methods: Record<string, MethodStats>
  /** A pool of replicas (manifest `scale`, while active): its replicas and failover counts. */
  pool?: PoolView
}

/** `host.memory()`: what one running plugin occupies, as far as its placement lets the host see. */
export interface PluginMemory {
  id: string
  /** Resident set size of the plugin's own process. */
  rssBytes?: number
  /** V8 heap in use, for JS plugins in a worker (or what a plugin reports). */
  heapBytes?: number
  /** A WebAssembly plugin's linear memory. */
  linearMemoryBytes?: number
}

export interface PluginRuntimeOptions {
  logger: HostLogger
  /** The host's least severe logged level, told to plugins at `$/activate`. */
  logLevel?: LogLevel
  /** Registers the host API (permission-checked) on a new session's peer. */
  registerApi(peer: Peer): void
  /** Settings passed at `$/activate`; may throw CONFIG_INVALID. */
  config(): Record<string, unknown>
  /** A session ended (stop, crash, hang): release everything the plugin registered. */
  onSessionEnd(): void
  /** Default call timeout when the manifest gives none. */
  callTimeoutMs: number
  startTimeoutMs: number
  /** How long a plugin has to answer a heartbeat after a call timed out. */
  pingTimeoutMs: number
  /** Backoff and circuit breaker for plugins that crash (src/host/supervisor.ts). */
  restart?: RestartPolicyOptions
  /** The application's choice for kernels that lack sandbox rules (process placement). */
  sandbox?: SandboxOptions
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
  #stopping: Promise<unknown> | undefined
  #info: Partial<PluginInfo> = {}
  #unavailable: PolyplugError | undefined
  #disabled = false
  #activations = 0
  #activeSince: number | undefined
  readonly #stats = new CallStats()
  /** Resolved dependency ids, set by the host after resolution. */
  dependencies: string[] = []
  readonly #restart: RestartPolicy
  /** The application's subscriptions to this plugin's notifications; they survive restarts. */
  readonly notifications: PluginNotifications

  constructor(loaded: LoadedManifest, options: PluginRuntimeOptions) {
    this.id = loaded.manifest.id
    this.#loaded = loaded
    this.#options = options
    this.#restart = new RestartPolicy(this.id, options.restart)
    this.notifications = new PluginNotifications(this.id, (method, error) =>
      options.logger({ level: 'warn', plugin: this.id, message: `notification listener for ${method} threw: ${toPolyplugError(error).message}` }),
    )
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
    if (this.#unavailable) return 'unavailable'
    if (this.#disabled && (this.#state === 'inactive' || this.#state === 'failed')) return 'disabled'
    return this.#state
  }

  get manifest(): Manifest {
    return this.#loaded.manifest
  }

  get loaded(): LoadedManifest {
    return this.#loaded
  }

  /** Whether the plugin could run (not unavailable, not disabled). */
  get usable(): boolean {
    return !this.#unavailable && !this.#disabled
  }

  /** Marks the plugin as refused by resolution; it never starts. */
  /** Marks the plugin unable to start (a resolution problem), or, with undefined, able again. */
  setUnavailable(error: PolyplugError | undefined): void {
    this.#unavailable = error
    if (error) this.#info.lastError = { code: error.code, message: error.message }
  }

  setDisabled(disabled: boolean): void {
    this.#disabled = disabled
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
      ...this.#info,
      status: this.state,
      ...(this.dependencies.length > 0 ? { dependencies: this.dependencies } : {}),
    }
  }

  stats(): PluginStats {
    const methods = this.#stats.summary()
    const overall = this.#stats.overall()
    const { activationReason, loadMs, activateMs } = this.#info
    const quarantine = this.#restart.quarantined
    const pid = this.pid
    return {
      id: this.id,
      status: this.state,
      ...(activationReason === undefined ? {} : { activationReason }),
      ...(loadMs === undefined ? {} : { loadMs }),
      ...(activateMs === undefined ? {} : { activateMs }),
      activations: this.#activations,
      restarts: Math.max(0, this.#activations - 1),
      crashes: this.#restart.totalCrashes,
      recentCrashes: this.#restart.recentCrashes,
      ...(quarantine ? { quarantine: { code: quarantine.code, message: quarantine.message } } : {}),
      ...(this.running && this.#activeSince !== undefined ? { uptimeMs: Date.now() - this.#activeSince } : {}),
      ...(pid === undefined ? {} : { pid }),
      calls: overall.calls,
      errors: overall.errors,
      errorsByCode: overall.errorsByCode,
      p50: overall.p50,
      p99: overall.p99,
      methods,
      ...(this.#session?.launched.pool ? { pool: this.#session.launched.pool() } : {}),
    }
  }

  /** The error that keeps this plugin from starting now, if any. */
  blocked(): PolyplugError | undefined {
    if (this.#unavailable) return this.#unavailable
    if (this.#disabled) return new PolyplugError(ErrorCodes.PLUGIN_DISABLED, `plugin "${this.id}" is disabled`, { plugin: this.id })
    return undefined
  }

  get running(): boolean {
    return this.#state === 'active' && this.#session !== undefined
  }

  /**
   * Starts the plugin if it is not running; concurrent callers share one start, and a start
   * requested while stopping waits for the stop. `handoff` reaches the plugin's `activate`.
   */
  activate(reason = 'explicit', handoff?: unknown): Promise<Session> {
    if (this.#session && this.#state === 'active') return Promise.resolve(this.#session)
    const blocked = this.blocked()
    if (blocked) return Promise.reject(blocked)
    this.#starting ??= traced(`polyplug.activate ${this.id}`, { 'polyplug.plugin': this.id, 'polyplug.reason': reason }, undefined, async () => {
      await this.#stopping
      return this.#start(reason, handoff)
    }).finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  /** The default deadline of one call: the manifest's, else the host's. */
  get #callTimeoutMs(): number {
    return this.manifest.limits?.callTimeoutMs ?? this.#options.callTimeoutMs
  }

  call<T = unknown>(method: string, args: unknown[] = [], options: CallOptions = {}, reason = `onMethod:${method}`): Promise<T> {
    if (method.startsWith('$/')) return this.#call(method, args, options, reason)
    return traced(`polyplug.call ${this.id}/${method}`, { 'polyplug.plugin': this.id, 'rpc.method': method }, options.traceparent, (traceparent) =>
      this.#call<T>(method, args, traceparent === options.traceparent ? options : { ...options, traceparent }, reason),
    )
  }

  async #call<T>(method: string, args: unknown[], options: CallOptions, reason: string): Promise<T> {
    checkParams(this.manifest, method, args) // before the plugin is started or reached; a rejection, not a throw
    // A running plugin is called without awaiting `activate`'s already-resolved promise (a hop per call).
    const session = this.#session !== undefined && this.#state === 'active' ? this.#session : await this.activate(reason)
    if (args.some(isStreamSource) && !this.#info.capabilities?.includes('streams')) {
      throw new PolyplugError(ErrorCodes.STREAMS_UNSUPPORTED, `plugin "${this.id}" does not speak streams (no "streams" capability in its $/hello answer); pass the values as an array instead`, { plugin: this.id, method })
    }
    const t0 = performance.now()
    const counted = !method.startsWith('$/')
    try {
      const direct = session.launched.invoke
      const result = direct && counted
        ? ((await direct(method, args, options, options.timeout ?? this.#callTimeoutMs)) as T)
        : await session.peer.call<T>(method, protocolOf(session).params(args, method), options)
      if (counted) this.#stats.record(method, performance.now() - t0)
      return result
    } catch (error) {
      if (counted) this.#stats.record(method, performance.now() - t0, toPolyplugError(error).code)
      if (error instanceof PolyplugError && error.code === ErrorCodes.RPC_TIMEOUT) this.#checkAlive(session)
      throw error
    }
  }

  /** What the running plugin occupies: its process's RSS, and what its side reports through `$/usage` (heap, linear memory). */
  async memory(): Promise<PluginMemory | undefined> {
    const session = this.#session
    if (!session || this.#state !== 'active') return undefined
    const pid = session.launched.pid
    const [rss, reported] = await Promise.all([
      pid === undefined ? undefined : pidusage(pid).then((u) => u.memory, () => undefined),
      !protocolOf(session).handshake ? undefined : session.peer.call<Record<string, unknown>>(USAGE_METHOD, undefined, { timeout: 1000 }).catch(() => undefined),
    ])
    const bytes = (key: string) => (typeof reported?.[key] === 'number' ? { [key]: reported[key] as number } : {})
    return { id: this.id, ...(rss === undefined ? {} : { rssBytes: rss }), ...bytes('heapBytes'), ...bytes('linearMemoryBytes') }
  }

  /** Sends a notification (no answer), starting the plugin if needed: e.g. LSP's `textDocument/didOpen`. */
  async notify(method: string, args: unknown[] = []): Promise<void> {
    const session = await this.activate(`onMethod:${method}`)
    await session.peer.notify(method, protocolOf(session).params(args, method))
  }

  /**
   * Asks the plugin to deactivate, then stops it; a plugin that does not answer is killed.
   * Resolves to the snapshot `deactivate` returned (for a reload's handoff), if any.
   */
  stop(): Promise<unknown> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined
    })
    return this.#stopping
  }

  async #stop(): Promise<unknown> {
    const session = this.#session ?? (await this.#starting?.catch(() => undefined))
    if (!session) return undefined
    this.#state = 'stopping'
    const answer = await protocolOf(session).stop(session.peer)
    await session.launched.kill()
    // The channel's close listener ends the session; make sure even a channel that never reports it does.
    this.#endSession(session.peer)
    return answer?.state
  }

  async #start(reason: string, handoff: unknown): Promise<Session> {
    const quarantined = this.#restart.quarantined
    if (quarantined) {
      this.#state = 'failed'
      throw quarantined
    }
    const backoff = this.#restart.delayBeforeStart()
    if (backoff > 0) await new Promise((r) => setTimeout(r, backoff))
    this.#state = 'starting'
    const launcher = launcherFor(this.manifest.placement)
    const startTimeout = this.manifest.limits?.startTimeoutMs ?? this.#options.startTimeoutMs
    const t0 = performance.now()
    let launched: Launched | undefined
    try {
      const config = this.#options.config()
      if (!launcher) {
        throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `placement "${this.manifest.placement}" is not supported yet`, { plugin: this.id })
      }
      launched = await launcher({
        id: this.id,
        loaded: this.#loaded,
        startTimeoutMs: startTimeout,
        sandbox: this.#options.sandbox,
        log: (level, message) => this.#options.logger({ level, plugin: this.id, message }),
      })
      const t1 = performance.now()
      const handshake = protocolOf({ launched }).handshake
      // Bytes as attachments (docs/protocol.md §4.1): offered in $/hello, read from then on, sent once accepted.
      const attach = handshake && mayAttach(launched.channel, launched.codec ?? jsonCodec)
      const peer = this.#connect(launched, attach)
      if (!handshake) return this.#startedWithoutHandshake(launched, peer, reason, t1 - t0)
      const hello = await peer.call<HelloResult>(Reserved.hello, this.#helloParams(attach) as unknown as Record<string, unknown>, {
        timeout: startTimeout,
      }).catch((error: unknown) => {
        throw toPolyplugError(error).code === ErrorCodes.RPC_TIMEOUT
          ? new PolyplugError(ErrorCodes.PLUGIN_START_TIMEOUT, `no handshake within ${startTimeout} ms`, { plugin: this.id })
          : error
      })
      if (hello?.protocol !== PROTOCOL_VERSION) {
        throw new PolyplugError(ErrorCodes.PROTOCOL_MISMATCH, `the plugin answered $/hello with protocol ${JSON.stringify(hello?.protocol)}; this host speaks protocol ${PROTOCOL_VERSION} (docs/protocol.md §5)`, { plugin: this.id })
      }
      if (launched.token !== undefined && hello.token !== launched.token) {
        throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, 'the plugin answered $/hello without the launch token', { plugin: this.id })
      }
      if (attach && hello.capabilities?.includes(BINARY_CAPABILITY)) peer.setCodec(binaryJsonCodec)
      this.#serveHost(peer) // only now: nothing is served to a peer that has not proven itself
      const params = { config, reason, logLevel: this.#options.logLevel ?? 'info', ...(handoff === undefined ? {} : { state: handoff }) }
      await peer.call(Reserved.activate, params, { timeout: startTimeout }).catch((error: unknown) => {
        const e = toPolyplugError(error)
        throw new PolyplugError(ErrorCodes.ACTIVATION_FAILED, `activate failed: ${e.message}`, { plugin: this.id, cause: e, data: { code: e.code } })
      })
      const session = { launched, peer }
      this.#session = session
      this.#state = 'active'
      this.#activations++
      this.#activeSince = Date.now()
      this.#info = { activationReason: reason, loadMs: t1 - t0, activateMs: performance.now() - t1, methods: hello.methods, capabilities: hello.capabilities ?? [] }
      return session
    } catch (error) {
      const e = toPolyplugError(error).withContext(this.id, undefined)
      this.#state = 'failed'
      this.#info = { ...this.#info, lastError: { code: e.code, message: e.message } }
      this.#options.onSessionEnd()
      if (launched?.isolated ?? this.manifest.placement !== 'inline') this.#restart.recordCrash(e) // a failed start counts as a crash
      await launched?.kill(e).catch(() => {})
      throw e
    }
  }

  /** A protocol without polyplug's handshake (an LSP server) has no token or activate: it is active once connected. */
  #startedWithoutHandshake(launched: Launched, peer: Peer, reason: string, loadMs: number): Session {
    const session = { launched, peer }
    this.notifications.attach(peer)
    this.#session = session
    this.#state = 'active'
    this.#activations++
    this.#activeSince = Date.now()
    this.#info = { activationReason: reason, loadMs, activateMs: 0 }
    return session
  }

  #helloParams(attach: boolean): HelloParams {
    const params: HelloParams = { protocol: [PROTOCOL_VERSION], plugin: this.id, host: { name: 'polyplug', version: HOST_VERSION, pid: process.pid }, encodings: ['json', 'msgpack'] }
    if (attach) params.capabilities = [BINARY_CAPABILITY]
    return params
  }

  #connect(launched: Launched, attach: boolean): Peer {
    const timeout = this.#callTimeoutMs
    const codec = attach ? jsonReadingAttachments : launched.codec
    const peer = new Peer(launched.channel, {
      name: this.id,
      timeout,
      ...(codec ? { codec } : {}),
      cancelMethod: protocolOf({ launched }).cancelMethod,
      onProtocolError: (error) => this.#options.logger({ level: 'warn', plugin: this.id, message: `protocol: ${error.code}: ${error.message}` }),
    })
    launched.channel.onClose((error) => this.#onClosed(peer, error))
    return peer
  }

  #serveHost(peer: Peer): void {
    this.#options.registerApi(peer)
    this.notifications.attach(peer)
    peer.handle(Reserved.log, (params) => {
      const { level, message } = (params ?? {}) as Partial<LogParams>
      this.#options.logger({ level: level ?? 'info', plugin: this.id, message: String(message) })
    })
  }

  #onClosed(peer: Peer, error?: Error): void {
    if (this.#session?.peer !== peer) return
    const stopping = this.#state === 'stopping'
    this.#endSession(peer)
    if (error && !stopping) {
      const e = toPolyplugError(error)
      this.#info.lastError = { code: e.code, message: e.message }
      this.#restart.recordCrash(e)
      if (this.#restart.quarantined) this.#state = 'failed'
      this.#options.logger({ level: 'error', plugin: this.id, message: `${e.code}: ${e.message}` })
    }
  }

  /** A session is over: the plugin is inactive (a crashed one restarts on its next call) and its registrations go. */
  #endSession(peer: Peer): void {
    if (this.#session?.peer !== peer) return
    this.#session = undefined
    this.#state = 'inactive'
    this.#options.onSessionEnd()
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

/** What the plugin speaks on its channel: its launcher says (an LSP sidecar), else polyplug's protocol. */
function protocolOf(session: { launched: Launched }) {
  return session.launched.protocol ?? polyplugProtocol
}
