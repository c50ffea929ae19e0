/**
 * The embeddable host: discovers and resolves plugins without running their code, activates
 * them lazily (dependencies first), routes commands, hooks, events and calls, enforces host API
 * permissions, keeps state in SQLite, and stops everything in reverse dependency order.
 */
import type { SandboxOptions } from '../placement/sandbox.js'
import { watch, type FSWatcher } from 'node:fs'
import { join, resolve } from 'node:path'
import { discoverPlugins, type LoadedManifest } from '../manifest/load.js'
import type { InstallOptions, InstallResult } from '../package/index.js'
import { ErrorCodes, PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { createProxy } from '../rpc/proxy.js'
import type { CallOptions, Remote } from '../rpc/types.js'
import { Commands } from './commands.js'
import { PluginConfig, type Settings } from './config.js'
import { addToList, type Dispatch, type Disposable } from './dispatch.js'
import { Events } from './events.js'
import { HOST_VERSION, type HostApi } from './host-api.js'
import { Hooks } from './hooks.js'
import type { RestartPolicyOptions } from './supervisor.js'
import { stderrLogger, type HostLogger, type LogEntry, type LogLevel } from './log.js'
import { PluginRuntime, type PluginInfo, type PluginMemory, type PluginStats } from './plugin.js'
import { RecentLog, type LogRecord } from './recent-log.js'
import type { Dashboard, DashboardOptions } from '../dashboard/server.js'
import type { GrantPolicy } from './permissions.js'
import { pluginNotFound } from './not-found.js'
import { resolvePlugins } from './resolve.js'
import { createSession } from './session.js'
import { DEFAULT_STORAGE_QUOTA, StateStore } from './storage.js'

export interface HostOptions {
  /** Folders to scan, in priority order (e.g. built-in, user, project): each may be a plugin folder or hold plugin folders. */
  plugins: string[]
  /** Functions plugins may call as `host/<name>` (each needs the `api:<name>` scope unless listed in `publicApi`). */
  api?: HostApi
  /** Application API names every plugin may call without a grant; `true` for all. Default none. */
  publicApi?: readonly string[] | true
  /** Narrows (or widens) the host API scopes each plugin's manifest asks for. Default: as declared. */
  permissions?: GrantPolicy
  /** Settings per plugin id, validated against each plugin's contributed configuration schema. */
  config?: Record<string, Settings>
  /** SQLite file for enabled/disabled state and plugin storage. Default `:memory:` (nothing persists). */
  statePath?: string
  logger?: HostLogger
  /** The least severe level logged; plugins learn it (PluginContext.logLevel, Extism's get_log_level). Default info. */
  logLevel?: LogLevel
  /** Default per-call deadline (ms) for plugins whose manifest sets none. Default 30000. */
  callTimeoutMs?: number
  /** Deadline for a plugin's handshake and `activate` (ms). Default 10000. */
  startTimeoutMs?: number
  /** Heartbeat deadline after a timed-out call (ms). Default 1000. */
  pingTimeoutMs?: number
  /** Restart backoff and circuit breaker for plugins that crash (src/host/supervisor.ts). */
  restart?: RestartPolicyOptions
  /** Where `install` puts packages (one folder per plugin id). Default: the first `plugins` folder. */
  installDir?: string
  /** Ed25519 public keys (PEM): when set, `install` accepts only packages signed by one of them. */
  trustedKeys?: readonly string[]
  /**
   * Process plugins run in a Landlock sandbox (docs/confinement.md). Where the kernel lacks rules
   * a plugin needs, it is refused with SANDBOX_UNAVAILABLE unless listed here (`true`: any).
   */
  sandbox?: SandboxOptions
}

/** What a `rescan` changed, by plugin id. */
export interface RescanResult {
  added: string[]
  removed: string[]
  /** Another manifest or folder under the same id: stopped, then replaced. */
  updated: string[]
}

export interface InvalidPlugin {
  dir: string
  /** MANIFEST_INVALID, or DUPLICATE_PLUGIN_ID for a second plugin with a taken id. */
  error: PolyplugError
}

/** A handle on one plugin: calls activate it (and its dependencies) on demand. */
export interface PluginHandle {
  readonly id: string
  info(): PluginInfo
  call<T = unknown>(method: string, args?: unknown[], options?: CallOptions): Promise<T>
  /**
   * Sends a notification (no answer), starting the plugin if needed, e.g. LSP's `initialized` or
   * `textDocument/didOpen`. `args` are positional like `call`'s; a language server gets a single
   * object argument by name. Resolves once the message is handed to the channel.
   */
  notify(method: string, args?: unknown[]): Promise<void>
  /**
   * Calls `listener` with the params of each `method` notification the plugin sends (e.g.
   * `textDocument/publishDiagnostics`), in this and later sessions, until the returned function is
   * called. Names starting with `$/` or `host/` are refused (INVALID_PARAMS).
   */
  onNotification(method: string, listener: (params: unknown) => void): Disposable
  proxy<Api>(options?: CallOptions): Remote<Api>
  activate(reason?: string): Promise<void>
  stop(): Promise<void>
  /** Re-enables a plugin quarantined after crashing too often. */
  reset(): void
  /** The plugin's process id while it runs in a process of its own. */
  pid(): number | undefined
}

/** The application's view of one plugin's key-value storage. */
export interface PluginStorage {
  get<T = unknown>(key: string): T | undefined
  set(key: string, value: unknown): void
  delete(key: string): void
  keys(): string[]
}

type Resolved = Required<Omit<HostOptions, 'api' | 'permissions' | 'config' | 'statePath' | 'publicApi' | 'installDir' | 'trustedKeys'>> & Pick<HostOptions, 'permissions' | 'installDir' | 'trustedKeys'> & {
  api: HostApi
  publicApi: readonly string[] | true
}

export class Host {
  readonly #options: Resolved
  readonly #plugins = new Map<string, PluginRuntime>()
  readonly #configs = new Map<string, PluginConfig>()
  readonly #disposables = new Map<string, Disposable[]>()
  readonly #watchers = new Map<string, FSWatcher>()
  readonly #rootWatchers = new Set<Disposable>()
  readonly #settings: Record<string, Settings>
  readonly #recent = new RecentLog()
  readonly #dashboards = new Set<() => Promise<void>>()
  readonly #statePath: string
  #store: StateStore | undefined
  #order: string[] = []
  #rank = new Map<string, number>()
  #invalid: InvalidPlugin[] = []
  /** Per plugin, the functions that unregister its contributions. */
  readonly #contributions = new Map<string, Disposable[]>()
  #closed = false
  readonly #dispatch: Dispatch
  /** Commands contributed by plugins: listed without running plugin code, executed on demand. */
  readonly commands: Commands
  /** Hooks the application declares and plugins handle. */
  readonly hooks: Hooks
  /** Publish/subscribe between the application and plugins. */
  readonly events: Events

  constructor(options: HostOptions) {
    this.#options = {
      api: {},
      publicApi: [],
      logLevel: 'info',
      callTimeoutMs: 30_000,
      startTimeoutMs: 30_000,
      pingTimeoutMs: 1_000,
      restart: {},
      sandbox: {},
      ...options,
      logger: this.#recent.tap(options.logger ?? stderrLogger(options.logLevel)),
    }
    this.#settings = options.config ?? {}
    this.#statePath = options.statePath ?? ':memory:'
    this.#dispatch = {
      call: (id, method, args, reason, callOptions) => this.#call(id, method, args, callOptions ?? {}, reason),
      activate: async (id, reason) => {
        await this.#activate(id, reason)
      },
      usable: (id) => this.#plugins.get(id)?.usable ?? false,
      active: (id) => this.#plugins.get(id)?.running ?? false,
      rank: (id) => this.#rank.get(id) ?? Infinity,
      log: (level, message, plugin) => this.#options.logger({ level, message, ...(plugin ? { plugin } : {}) }),
    }
    this.commands = new Commands(this.#dispatch)
    this.hooks = new Hooks(this.#dispatch)
    this.events = new Events(this.#dispatch)
  }

  /** The durable state, opened on first use. */
  get #state(): StateStore {
    this.#store ??= new StateStore(this.#statePath)
    return this.#store
  }

  /** Scans the plugin folders, validates every manifest and resolves dependencies. No plugin code runs. */
  async discover(): Promise<void> {
    await this.rescan()
  }

  /**
   * Reads the plugin folders again: plugins that appeared are added, plugins that are gone are
   * stopped and dropped, and plugins whose manifest or folder changed (an upgrade) are stopped
   * and replaced; running dependants of those stop too and start again on their next call.
   * Everything else keeps running. Dependencies are resolved afresh over the whole set.
   */
  async rescan(): Promise<RescanResult> {
    const found = await discoverPlugins(this.#options.plugins)
    const log = this.#options.logger
    const valid: LoadedManifest[] = []
    const invalid: InvalidPlugin[] = []
    for (const item of found) {
      if (item.ok) valid.push(item.loaded)
      else {
        invalid.push({ dir: item.dir, error: item.error })
        log({ level: 'error', message: item.error.message })
      }
    }
    const resolution = resolvePlugins(valid, HOST_VERSION)
    for (const { loaded, error } of resolution.duplicates) {
      invalid.push({ dir: loaded.dir, error })
      log({ level: 'error', plugin: error.plugin, message: error.message })
    }
    const next = resolution.plugins
    const changed = (id: string) => {
      const before = this.#plugins.get(id)!.loaded
      const after = next.get(id)!
      return before.file !== after.file || JSON.stringify(before.manifest) !== JSON.stringify(after.manifest)
    }
    const removed = [...this.#plugins.keys()].filter((id) => !next.has(id))
    const updated = [...next.keys()].filter((id) => this.#plugins.has(id) && changed(id))
    const added = [...next.keys()].filter((id) => !this.#plugins.has(id))
    for (const id of [...removed, ...updated]) {
      await this.#stopWithDependants(id)
      for (const dispose of this.#contributions.get(id)?.splice(0) ?? []) dispose()
      this.#plugins.delete(id)
      this.#configs.delete(id)
    }
    for (const id of removed) {
      this.#watchers.get(id)?.close()
      this.#watchers.delete(id)
    }
    this.#invalid = invalid
    this.#order = resolution.order
    this.#rank = new Map(this.#order.map((id, i) => [id, i]))
    const disabled = this.#statePath === ':memory:' ? new Set<string>() : this.#state.disabledPlugins()
    for (const id of this.#order) {
      let runtime = this.#plugins.get(id)
      if (!runtime) {
        runtime = this.#createRuntime(next.get(id)!)
        runtime.setDisabled(disabled.has(id))
        this.#plugins.set(id, runtime)
        this.#registerContributions(runtime)
      }
      runtime.dependencies = resolution.dependencies.get(id) ?? []
      const problem = resolution.unavailable.get(id)
      runtime.setUnavailable(problem)
      if (problem) log({ level: 'error', plugin: id, message: `${problem.code}: ${problem.message}` })
    }
    return { added, removed, updated }
  }

  /**
   * Installs a package (docs/packaging.md) into `installDir` and rescans: the plugin can be called
   * at once, and an upgraded one restarts with its new code on its next call. With `trustedKeys`
   * set, only packages signed by one of them install.
   */
  async install(file: string, options: InstallOptions = {}): Promise<InstallResult> {
    const trustedKeys = this.#options.trustedKeys
    const { installPackage } = await import('../package/index.js') // tar and signing load only to install
    const result = await installPackage(file, this.#installDir(), { ...(trustedKeys ? { trustedKeys } : {}), ...options })
    await this.rescan()
    return result
  }

  /** Stops and removes a plugin that `install` put in `installDir`, then rescans. */
  async uninstall(id: string): Promise<void> {
    const dir = this.#installDir()
    const runtime = this.#runtime(id)
    if (resolve(runtime.loaded.dir) !== join(dir, id)) {
      throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `plugin "${id}" lives in ${runtime.loaded.dir}, not in the install folder ${dir}; the host removes only what it installed`, { plugin: id })
    }
    await this.#stopWithDependants(id)
    const { uninstallPlugin } = await import('../package/index.js')
    await uninstallPlugin(id, dir)
    await this.rescan()
  }

  #installDir(): string {
    const dir = this.#options.installDir ?? this.#options.plugins[0]
    if (!dir) throw new PolyplugError(ErrorCodes.INVALID_PARAMS, 'the host has no plugin folder to install into (set installDir)')
    return resolve(dir)
  }

  /** Activates every plugin whose manifest lists `onStartup`, dependencies first. Failures are logged, not thrown. */
  async startup(): Promise<void> {
    for (const id of this.#order) {
      const runtime = this.#plugins.get(id)!
      if (!runtime.usable || !runtime.manifest.activation?.includes('onStartup')) continue
      await this.#activate(id, 'onStartup').catch((e: unknown) => this.#options.logger({ level: 'error', plugin: id, message: `onStartup: ${toPolyplugError(e).message}` }))
    }
  }

  /** Every resolved plugin (unavailable and disabled ones included), dependencies first. */
  list(): PluginInfo[] {
    return this.#order.map((id) => this.#plugins.get(id)!.info())
  }

  /** Plugin folders that were not loaded: invalid manifests and duplicate ids. */
  invalid(): readonly InvalidPlugin[] {
    return this.#invalid
  }

  has(id: string): boolean {
    return this.#plugins.has(id)
  }

  /** Per plugin: state, activation reason and times, call and error counts, latency percentiles per method. */
  stats(): PluginStats[] {
    return this.#order.map((id) => this.#plugins.get(id)!.stats())
  }

  /** What each running plugin occupies (process RSS, worker heap, WebAssembly linear memory), as far as its placement shows. */
  async memory(): Promise<PluginMemory[]> {
    const all = await Promise.all(this.#order.map((id) => this.#plugins.get(id)!.memory()))
    return all.filter((m): m is PluginMemory => m !== undefined)
  }

  /** The most recent log lines (stderr included) of a plugin, or the host's own with no id; oldest first. */
  logs(id?: string): LogRecord[] {
    return this.#recent.lines(id)
  }

  /** Writes to the host's log (and the plugin's recent lines, when `entry.plugin` is set), e.g. what an operator did. */
  log(entry: LogEntry): void {
    this.#options.logger(entry)
  }

  /**
   * Serves the "Running Plugins" dashboard and `/metrics` for this host (docs/dashboard.md), on
   * loopback unless `options.host` says otherwise; actions need the returned token. Closed with the host.
   */
  async serveDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
    const { serveDashboard } = await import('../dashboard/server.js')
    const dashboard = await serveDashboard(this, options)
    const close = dashboard.close
    const closeOnce = () => {
      this.#dashboards.delete(closeOnce)
      return close()
    }
    this.#dashboards.add(closeOnce)
    return { ...dashboard, close: closeOnce }
  }

  /** Calls `listener` with every log line from now on, until the returned function is called. */
  onLog(listener: (record: LogRecord) => void): Disposable {
    return this.#recent.listen(listener)
  }

  plugin(id: string): PluginHandle {
    const runtime = this.#runtime(id)
    if (this.#closed) throw new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'host is closed', { plugin: id })
    return {
      id,
      info: () => runtime.info(),
      call: (method, args, options) => this.#call(id, method, args ?? [], options ?? {}, `onMethod:${method}`),
      notify: async (method, args) => {
        await this.#activate(id, `onMethod:${method}`)
        await runtime.notify(method, args ?? [])
      },
      onNotification: (method, listener) => runtime.notifications.on(method, listener),
      proxy: <Api>(options: CallOptions = {}) =>
        createProxy<Api>((method, args) => this.#call(id, method, args, options, `onMethod:${method}`)),
      activate: (reason) => this.#activate(id, reason ?? 'explicit'),
      stop: () => this.#stopWithDependants(id).then(() => {}),
      pid: () => runtime.pid,
      reset: () => runtime.reset(),
    }
  }

  /** The plugin that provides API `name` (or has that id): what a dependant gets through `host/plugins.call`. */
  provider(name: string): PluginHandle {
    if (this.#plugins.has(name)) return this.plugin(name)
    const hit = this.#order.find((id) => this.#plugins.get(id)!.manifest.provides?.[name] !== undefined && this.#plugins.get(id)!.usable)
    if (hit === undefined) throw new PolyplugError(ErrorCodes.PLUGIN_NOT_FOUND, `no plugin provides "${name}"`)
    return this.plugin(hit)
  }

  /** The validated settings of a plugin, defaults applied. */
  settings(id: string): Settings {
    return this.#config(id).get()
  }

  /** Changes a plugin's settings (CONFIG_INVALID keeps the old ones); a running plugin is told through `$/config`. */
  async configure(id: string, values: Settings): Promise<Settings> {
    const next = this.#config(id).set(values)
    const runtime = this.#runtime(id)
    if (runtime.running) await runtime.call('$/config', [next], {}, 'configure').catch((e: unknown) => this.#options.logger({ level: 'warn', plugin: id, message: `$/config: ${toPolyplugError(e).message}` }))
    return next
  }

  /** The application's view of a plugin's storage (the same data the plugin reads through `host/storage.*`). */
  storage(id: string): PluginStorage {
    const runtime = this.#runtime(id)
    const quota = runtime.manifest.limits?.storageBytes ?? DEFAULT_STORAGE_QUOTA
    return {
      get: <T>(key: string) => this.#state.get(id, key) as T | undefined,
      set: (key, value) => this.#state.set(id, key, value, quota),
      delete: (key) => this.#state.delete(id, key),
      keys: () => this.#state.keys(id),
    }
  }

  /** Enables or disables a plugin, persistently. Disabling stops it (and its running dependants). */
  async setEnabled(id: string, enabled: boolean): Promise<void> {
    const runtime = this.#runtime(id)
    this.#state.setEnabled(id, enabled)
    // Disabled first, so that no call can start it again while it stops.
    runtime.setDisabled(!enabled)
    if (!enabled) await this.#stopWithDependants(id)
  }

  /**
   * Stops a plugin and starts it again without restarting the host. What its `deactivate`
   * returned reaches the next `activate` as `context.previousState`. Worker and process plugins
   * load their code afresh; inline ones reuse the loaded module.
   */
  async reload(id: string): Promise<void> {
    const runtime = this.#runtime(id)
    const snapshot = await runtime.stop()
    await this.#activate(id, 'reload', snapshot)
  }

  /** Dev mode: reloads the plugin whenever a file in its folder changes (debounced). Returns a stop function. */
  watch(id: string, onReload?: (error?: PolyplugError) => void): Disposable {
    const runtime = this.#runtime(id)
    let timer: ReturnType<typeof setTimeout> | undefined
    const watcher = watch(runtime.loaded.dir, { recursive: true }, () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        this.reload(id).then(() => onReload?.(), (e: unknown) => onReload?.(toPolyplugError(e)))
      }, 100)
    })
    this.#watchers.get(id)?.close()
    this.#watchers.set(id, watcher)
    return () => {
      clearTimeout(timer)
      watcher.close()
      this.#watchers.delete(id)
    }
  }

  /**
   * Dev mode for whole plugin folders: rescans (debounced 200 ms, one at a time) whenever an entry
   * appears in, or leaves, one of the `plugins` folders, so a plugin folder moved in or deleted
   * is picked up without a call. Move folders in whole (copy elsewhere, then rename): only the
   * folders themselves are watched, not the files inside them, so a folder copied in file by
   * file may be scanned before its manifest arrives. Changes inside a plugin folder are
   * `watch(id)`'s job.
   */
  watchPlugins(onRescan?: (result: RescanResult | PolyplugError) => void): Disposable {
    let timer: ReturnType<typeof setTimeout> | undefined
    let running: Promise<void> = Promise.resolve()
    const schedule = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        running = running.then(async () => {
          if (this.#closed) return
          await this.rescan().then(
            (result) => onRescan?.(result),
            (e: unknown) => onRescan?.(toPolyplugError(e)),
          )
        })
      }, 200)
    }
    const watchers = this.#options.plugins.map((root) => watch(resolve(root), schedule))
    const stop = () => {
      clearTimeout(timer)
      for (const w of watchers) w.close()
      this.#rootWatchers.delete(stop)
    }
    this.#rootWatchers.add(stop)
    return stop
  }

  /** Stops every running plugin, dependants before their dependencies, then closes the state store. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    for (const close of [...this.#dashboards]) await close()
    for (const stop of [...this.#rootWatchers]) stop()
    for (const watcher of this.#watchers.values()) watcher.close()
    this.#watchers.clear()
    for (const id of [...this.#order].reverse()) await this.#plugins.get(id)!.stop()
    this.#store?.close()
  }

  #runtime(id: string): PluginRuntime {
    const runtime = this.#plugins.get(id)
    if (!runtime) throw pluginNotFound(id, [...this.#plugins.keys()], this.#invalid)
    return runtime
  }

  #config(id: string): PluginConfig {
    let config = this.#configs.get(id)
    if (!config) this.#configs.set(id, (config = new PluginConfig(id, this.#runtime(id).manifest, this.#settings[id] ?? {})))
    return config
  }

  /** Activates a plugin's dependencies (reason `onDependent`), then the plugin. */
  async #activate(id: string, reason: string, handoff?: unknown): Promise<void> {
    const runtime = this.#runtime(id)
    if (runtime.running) return
    if (this.#closed) throw new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'host is closed', { plugin: id })
    const blocked = runtime.blocked()
    if (blocked) throw blocked
    for (const dep of runtime.dependencies) {
      await this.#activate(dep, 'onDependent').catch((error: unknown) => {
        const cause = toPolyplugError(error)
        throw new PolyplugError(ErrorCodes.DEPENDENCY_UNAVAILABLE, `plugin "${id}" cannot start: its dependency "${dep}" failed (${cause.code}: ${cause.message})`, {
          plugin: id,
          cause,
          data: { dependency: dep, code: cause.code },
        })
      })
    }
    await runtime.activate(reason, handoff)
  }

  #call<T>(id: string, method: string, args: unknown[], options: CallOptions, reason: string): Promise<T> {
    // A running plugin needs no activation step: calling it straight saves an async frame and two promise hops per call.
    const runtime = this.#plugins.get(id)
    if (runtime?.running) return runtime.call<T>(method, args, options, reason)
    return this.#activateAndCall(id, method, args, options, reason)
  }

  async #activateAndCall<T>(id: string, method: string, args: unknown[], options: CallOptions, reason: string): Promise<T> {
    await this.#activate(id, reason)
    return this.#runtime(id).call<T>(method, args, options, reason)
  }

  /** Stops the running dependants of `id` (dependants first), then `id`. */
  async #stopWithDependants(id: string): Promise<unknown> {
    const rank = this.#rank.get(id) ?? 0
    const affected = new Set([id])
    for (const other of this.#order.slice(rank + 1)) {
      if (this.#plugins.get(other)!.dependencies.some((d) => affected.has(d))) affected.add(other)
    }
    for (const other of [...affected].reverse()) if (other !== id) await this.#plugins.get(other)!.stop()
    return this.#runtime(id).stop()
  }

  #createRuntime(loaded: LoadedManifest): PluginRuntime {
    const id = loaded.manifest.id
    const runtime: PluginRuntime = new PluginRuntime(loaded, {
      logger: this.#options.logger,
      logLevel: this.#options.logLevel,
      callTimeoutMs: this.#options.callTimeoutMs,
      startTimeoutMs: this.#options.startTimeoutMs,
      pingTimeoutMs: this.#options.pingTimeoutMs,
      restart: this.#options.restart,
      sandbox: this.#options.sandbox,
      config: () => this.#config(id).get(),
      registerApi: (peer) =>
        createSession(peer, runtime, {
          api: this.#options.api,
          publicApi: this.#options.publicApi,
          policy: this.#options.permissions,
          logger: this.#options.logger,
          dispatch: this.#dispatch,
          commands: this.commands,
          events: this.events,
          hooks: this.hooks,
          config: () => this.#config(id).get(),
          storage: () => this.storage(id),
          provides: (other) => this.#plugins.get(other)?.manifest.provides,
          track: (d) => void addToList(this.#disposables, id, d),
        }),
      onSessionEnd: () => {
        for (const dispose of this.#disposables.get(id)?.splice(0) ?? []) dispose()
      },
    })
    return runtime
  }

  /** Registers what the manifest contributes; `rescan` unregisters it when the plugin goes or changes. */
  #registerContributions(runtime: PluginRuntime): void {
    const m = runtime.manifest
    const added = [this.commands.addManifest(m)]
    for (const h of m.contributes?.hooks ?? []) added.push(this.hooks.addPluginHandler(h.hook, m.id, h.method, h.order ?? 'normal', true))
    for (const e of m.contributes?.events ?? []) added.push(this.events.addPluginSubscription(e.topic, m.id, e.method, true))
    for (const event of m.activation ?? []) if (event.startsWith('onEvent:')) added.push(this.events.addActivator(event.slice('onEvent:'.length), m.id))
    this.#contributions.set(m.id, added)
  }
}

/** Creates a host, discovers and resolves its plugins, and starts those that ask for `onStartup`. */
export async function createHost(options: HostOptions): Promise<Host> {
  const host = new Host(options)
  await host.discover()
  await host.startup()
  return host
}
