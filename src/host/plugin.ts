/**
 * One installed plugin as the host sees it: lazy start, handshake, calls, and supervision
 * (a crash rejects in-flight calls at once; a call timeout on an isolated plugin triggers a
 * heartbeat, and a plugin that cannot answer it is terminated as hung).
 */
import { createRequire } from 'node:module'
import type { SandboxOptions } from '../placement/sandbox.js'
import { checkParams } from './params.js'
import type { LoadedManifest } from '../manifest/load.js'
import type { Manifest } from '../manifest/schema.js'
import type { Launched } from '../placement/placement.js'
import { placementTraits } from '../registry/index.js'
import { polyplugProtocol } from '../placement/protocol.js'
import { launcherFor } from '../placement/registry.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { BINARY_CAPABILITY, binaryJsonCodec, jsonReadingAttachments, mayAttach } from '../rpc/attachments.js'
import { jsonCodec } from '../rpc/codec.js'
import { NO_OPTIONS, Peer } from '../rpc/peer.js'
import { isStreamSource } from '../rpc/stream.js'
import type { CallOptions } from '../rpc/types.js'
import { Reserved } from '../rpc/wire.js'
import type { HelloResult, LogParams } from '../sdk/protocol.js'
import { DirectLane } from './direct-lane.js'
import { activate, hello } from './handshake.js'
import type { HostLogger, LogLevel } from './log.js'
import type { PluginInfo, PluginMemory, PluginState, PluginStats } from './plugin-info.js'
import { CallStats } from './stats.js'
import { PluginNotifications } from './notifications.js'
import { Supervisor, type RestartPolicyOptions } from './supervisor.js'
import { traced, tracingOn } from './tracing.js'

type Pidusage = typeof import('pidusage')
let pidusageModule: Pidusage | undefined
/** pidusage, loaded when memory is first asked for: a host that never asks does not load it. */
const pidusage = (): Pidusage => (pidusageModule ??= createRequire(import.meta.url)('pidusage') as Pidusage)

export type { PluginInfo, PluginMemory, PluginState, PluginStats }

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
  /** Its $/hello answer listed the "streams" capability: no call needs its arguments walked for a stream. */
  #speaksStreams = false
  /**
   * The running session's direct lane (src/host/direct-lane.ts) while a call to it needs no check
   * first but the stream check of a plugin that does not speak streams (its manifest asks for no
   * params checks): made when a session becomes active, dropped on every change of state — stop,
   * crash, failed start, replacement — so a call never reaches a stale session.
   */
  #lane: DirectLane | undefined
  /** The default deadline of one call: the manifest's, else the host's (both fixed for this runtime). */
  readonly #callTimeoutMs: number
  /** Resolved dependency ids, set by the host after resolution. */
  dependencies: string[] = []
  readonly #supervisor: Supervisor
  /** The application's subscriptions to this plugin's notifications; they survive restarts. */
  readonly notifications: PluginNotifications

  constructor(loaded: LoadedManifest, options: PluginRuntimeOptions) {
    this.id = loaded.manifest.id
    this.#loaded = loaded
    this.#options = options
    this.#callTimeoutMs = loaded.manifest.limits?.callTimeoutMs ?? options.callTimeoutMs
    this.#supervisor = new Supervisor(this.id, { restart: options.restart, pingTimeoutMs: options.pingTimeoutMs })
    this.notifications = new PluginNotifications(this.id, (method, error) =>
      options.logger({ level: 'warn', plugin: this.id, message: `notification listener for ${method} threw: ${toPolyplugError(error).message}` }),
    )
  }

  /** Closes the circuit breaker after the plugin was quarantined for crashing too often. */
  reset(): void {
    this.#supervisor.policy.reset()
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
    const quarantine = this.#supervisor.policy.quarantined
    const pid = this.pid
    return {
      id: this.id,
      status: this.state,
      ...(activationReason === undefined ? {} : { activationReason }),
      ...(loadMs === undefined ? {} : { loadMs }),
      ...(activateMs === undefined ? {} : { activateMs }),
      activations: this.#activations,
      restarts: Math.max(0, this.#activations - 1),
      crashes: this.#supervisor.policy.totalCrashes,
      recentCrashes: this.#supervisor.policy.recentCrashes,
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

  /** `reason` (default `onMethod:METHOD`, built only then) is the activation reason if the call has to start the plugin. */
  call<T = unknown>(method: string, args: unknown[] = [], options: CallOptions = NO_OPTIONS, reason?: string): Promise<T> {
    // A running inline plugin's direct lane: the checks of `#call` are known to pass (see `#lane`).
    // A call it does not take (a `$/` name, an unknown method, a stream argument to a plugin
    // without streams) goes on to `#call`, which answers or refuses it.
    const lane = this.#lane
    if (lane !== undefined && !tracingOn()) {
      const called = lane.call(method, args, options)
      if (called !== undefined) return called as Promise<T>
    }
    return this.#traced<T>(method, args, options, reason)
  }

  /** A call in a span of its own while a tracer is registered; without one the span's name and attributes are not even built. */
  #traced<T>(method: string, args: unknown[], options: CallOptions, reason: string | undefined): Promise<T> {
    if (method.startsWith('$/') || !tracingOn()) return this.#call(method, args, options, reason)
    return traced(`polyplug.call ${this.id}/${method}`, { 'polyplug.plugin': this.id, 'rpc.method': method }, options.traceparent, (traceparent) =>
      this.#call<T>(method, args, traceparent === options.traceparent ? options : { ...options, traceparent }, reason),
    )
  }

  /**
   * A call to a running plugin has no async frame or promise of its own: an inline plugin's direct
   * invoker, or the plugin's Peer, tells the statistics when the call ends (`ended`), and its
   * promise is the caller's. A call that has to start the plugin first, and a reserved `$/`
   * method, go through `#callOverPeer`.
   */
  #call<T>(method: string, args: unknown[], options: CallOptions, reason: string | undefined): Promise<T> {
    const session = this.#session
    if (session === undefined || this.#state !== 'active' || method.startsWith('$/')) return this.#callOverPeer(method, args, options, reason)
    try {
      checkParams(this.manifest, method, args) // before the plugin is reached; a rejection, not a throw
      this.#checkStreams(method, args)
    } catch (error) {
      return Promise.reject(error)
    }
    const direct = session.launched.invoke
    if (direct !== undefined) return direct(method, args, options, options.timeout ?? this.#callTimeoutMs, this.#stats.begin(method)) as Promise<T>
    const ended = this.#timed(session, method)
    try {
      return session.peer.call<T>(method, protocolOf(session).params(args, method), options, ended)
    } catch (error) {
      ended(toPolyplugError(error))
      return Promise.reject(error)
    }
  }

  /** The end of a call over the Peer, timed in full; a timeout makes the supervisor check that the plugin is alive. */
  #timed(session: Session, method: string): (error?: PolyplugError) => void {
    const t0 = performance.now()
    return (error) => {
      this.#stats.record(method, performance.now() - t0, error?.code)
      // After the Peer has settled the call (this runs inside its settling).
      if (error?.code === ErrorCodes.RPC_TIMEOUT) queueMicrotask(() => this.#supervisor.checkAlive(session))
    }
  }

  async #callOverPeer<T>(method: string, args: unknown[], options: CallOptions, reason: string | undefined): Promise<T> {
    checkParams(this.manifest, method, args) // before the plugin is started or reached; a rejection, not a throw
    // A running plugin is called without awaiting `activate`'s already-resolved promise (a hop per call).
    const session = this.#session !== undefined && this.#state === 'active' ? this.#session : await this.activate(reason ?? `onMethod:${method}`)
    this.#checkStreams(method, args)
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
      if (error instanceof PolyplugError && error.code === ErrorCodes.RPC_TIMEOUT) this.#supervisor.checkAlive(session)
      throw error
    }
  }

  /** STREAMS_UNSUPPORTED for a stream argument to a plugin without the "streams" capability; no walk of the arguments for one with it. */
  #checkStreams(method: string, args: unknown[]): void {
    if (this.#speaksStreams || !args.some(isStreamSource)) return
    throw new PolyplugError(ErrorCodes.STREAMS_UNSUPPORTED, `plugin "${this.id}" does not speak streams (no "streams" capability in its $/hello answer); pass the values as an array instead`, { plugin: this.id, method })
  }

  /** What the running plugin occupies: its process's RSS, and what its side reports through `$/usage` (heap, linear memory). */
  async memory(): Promise<PluginMemory | undefined> {
    const session = this.#session
    if (!session || this.#state !== 'active') return undefined
    const pid = session.launched.pid
    const [rss, reported] = await Promise.all([
      pid === undefined ? undefined : pidusage()(pid).then((u) => u.memory, () => undefined),
      !protocolOf(session).handshake ? undefined : session.peer.call<Record<string, unknown>>(Reserved.usage, undefined, { timeout: 1000 }).catch(() => undefined),
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
    this.#lane = undefined
    const answer = await protocolOf(session).stop(session.peer)
    await session.launched.kill()
    // The channel's close listener ends the session; make sure even a channel that never reports it does.
    this.#endSession(session.peer)
    return answer?.state
  }

  /** One start: wait for the supervisor's turn, launch, connect, handshake, serve the host API, activate. */
  async #start(reason: string, handoff: unknown): Promise<Session> {
    await this.#awaitTurn()
    this.#state = 'starting'
    const t0 = performance.now()
    let launched: Launched | undefined
    try {
      const config = this.#options.config() // CONFIG_INVALID before anything is launched
      launched = await this.#launch()
      const loadMs = performance.now() - t0
      const handshake = protocolOf({ launched }).handshake
      // Bytes as attachments (docs/protocol.md §4.1): offered in $/hello, read from then on, sent once accepted.
      const attach = handshake && mayAttach(launched.channel, launched.codec ?? jsonCodec)
      const session = { launched, peer: this.#connect(launched, attach) }
      if (!handshake) return this.#startedWithoutHandshake(session, reason, loadMs)
      const hello = await this.#hello(session, attach)
      if (attach && hello.capabilities?.includes(BINARY_CAPABILITY)) session.peer.setCodec(binaryJsonCodec)
      this.#serveHost(session.peer) // only now: nothing is served to a peer that has not proven itself
      await this.#activatePlugin(session, config, reason, handoff)
      const activateMs = performance.now() - t0 - loadMs
      return this.#becomeActive(session, { activationReason: reason, loadMs, activateMs, methods: hello.methods, capabilities: hello.capabilities ?? [] })
    } catch (error) {
      throw await this.#startFailed(error, launched)
    }
  }

  /** The supervisor's turn: a quarantined plugin fails at once; one that crashed recently waits out its backoff. */
  async #awaitTurn(): Promise<void> {
    await this.#supervisor.awaitTurn().catch((quarantined: unknown) => {
      this.#state = 'failed'
      throw quarantined
    })
  }

  /** Starts the plugin where its manifest places it. */
  async #launch(): Promise<Launched> {
    const launcher = launcherFor(this.manifest.placement)
    if (!launcher) {
      throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `placement "${this.manifest.placement}" is not supported yet`, { plugin: this.id })
    }
    return launcher({
      id: this.id,
      loaded: this.#loaded,
      startTimeoutMs: this.#startTimeoutMs,
      sandbox: this.#options.sandbox,
      log: (level, message) => this.#options.logger({ level, plugin: this.id, message }),
    })
  }

  /** `$/hello`: the protocol version, the launch token where the launcher set one, and the offer of attachments. */
  #hello({ launched, peer }: Session, attach: boolean): Promise<HelloResult> {
    return hello(peer, { id: this.id, token: launched.token, timeoutMs: this.#startTimeoutMs, ...(attach ? { capabilities: [BINARY_CAPABILITY] } : {}) })
  }

  /** `$/activate`: the plugin's settings, the activation event, the log level, and a reload's handoff. */
  #activatePlugin({ peer }: Session, config: Record<string, unknown>, reason: string, handoff: unknown): Promise<void> {
    return activate(peer, { id: this.id, config, reason, logLevel: this.#options.logLevel ?? 'info', handoff, timeoutMs: this.#startTimeoutMs })
  }

  /** A protocol without polyplug's handshake (an LSP server) has no token or activate: it is active once connected. */
  #startedWithoutHandshake(session: Session, reason: string, loadMs: number): Session {
    this.notifications.attach(session.peer)
    return this.#becomeActive(session, { activationReason: reason, loadMs, activateMs: 0 })
  }

  /** The session is the plugin's: it is active and counted. */
  #becomeActive(session: Session, info: Partial<PluginInfo>): Session {
    this.#speaksStreams = info.capabilities?.includes('streams') === true
    const invoker = session.launched.invoke
    this.#lane = invoker === undefined || this.manifest.validateParams ? undefined : new DirectLane(invoker, this.#stats, this.#speaksStreams, this.#callTimeoutMs)
    this.#session = session
    this.#state = 'active'
    this.#activations++
    this.#activeSince = Date.now()
    this.#info = info
    return session
  }

  /**
   * A start failed: the plugin is `failed` (the next call retries), what it registered goes, the
   * failure counts as a crash unless the plugin shares the host's thread, and whatever was
   * launched is killed. Returns the error to throw, tagged with the plugin.
   */
  async #startFailed(error: unknown, launched: Launched | undefined): Promise<PolyplugError> {
    const e = toPolyplugError(error).withContext(this.id, undefined)
    this.#state = 'failed'
    this.#lane = undefined
    this.#info = { ...this.#info, lastError: { code: e.code, message: e.message } }
    this.#options.onSessionEnd()
    if (launched?.isolated ?? placementTraits(this.manifest.placement).shares !== 'thread') this.#supervisor.crashed(e)
    await launched?.kill(e).catch(() => {})
    return e
  }

  get #startTimeoutMs(): number {
    return this.manifest.limits?.startTimeoutMs ?? this.#options.startTimeoutMs
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
      if (this.#supervisor.crashed(e)) this.#state = 'failed'
      this.#options.logger({ level: 'error', plugin: this.id, message: `${e.code}: ${e.message}` })
    }
  }

  /** A session is over: the plugin is inactive (a crashed one restarts on its next call) and its registrations go. */
  #endSession(peer: Peer): void {
    if (this.#session?.peer !== peer) return
    this.#session = undefined
    this.#lane = undefined
    this.#state = 'inactive'
    this.#options.onSessionEnd()
  }
}

/** What the plugin speaks on its channel: its launcher says (an LSP sidecar), else polyplug's protocol. */
function protocolOf(session: { launched: Launched }) {
  return session.launched.protocol ?? polyplugProtocol
}
