/**
 * The embeddable host: discovers and resolves plugins without running their code, activates
 * them lazily (dependencies first), routes commands, hooks, events and calls, enforces host API
 * permissions, keeps state in SQLite, and stops everything in reverse dependency order.
 */
import { resolve } from 'node:path'
import type { LoadedManifest } from '../manifest/load.js'
import type { InstallOptions, InstallResult } from '../package/index.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { createProxy } from '../rpc/proxy.js'
import type { CallOptions } from '../rpc/types.js'
import { Commands } from './commands.js'
import type { Settings } from './config.js'
import type { Dispatch, Disposable } from './dispatch.js'
import { discover } from './discovery.js'
import { PluginEntry } from './entry.js'
import { Events } from './events.js'
import type { HostApi } from './host-api.js'
import { Hooks } from './hooks.js'
import { stderrLogger, type LogEntry } from './log.js'
import { PluginRuntime, type PluginInfo, type PluginMemory, type PluginStats } from './plugin.js'
import { RecentLog, type LogRecord } from './recent-log.js'
import type { Dashboard, DashboardOptions } from '../dashboard/server.js'
import { Installer } from './install.js'
import { Lifecycle } from './lifecycle.js'
import { PluginSet, type InvalidPlugin } from './plugins.js'
import { rescan, type RescanResult } from './rescan.js'
import { createSession } from './session.js'
import { DEFAULT_STORAGE_QUOTA, pluginStorage, StateStore, type PluginStorage } from './storage.js'
import { oneAtATime, watchPaths } from './watch.js'
import type { HostOptions, PluginHandle } from './host-types.js'
import { NO_OPTIONS } from '../rpc/peer.js'


export type { HostOptions, InvalidPlugin, PluginHandle, PluginStorage, RescanResult }

type Resolved = Required<Omit<HostOptions, 'api' | 'permissions' | 'config' | 'statePath' | 'publicApi' | 'installDir' | 'trustedKeys'>> & Pick<HostOptions, 'permissions' | 'installDir' | 'trustedKeys'> & {
  api: HostApi
  publicApi: readonly string[] | true
}

export class Host {
  readonly #options: Resolved
  /** The known plugins, each with everything the host holds for it (src/host/entry.ts). */
  readonly #plugins = new PluginSet()
  readonly #lifecycle: Lifecycle
  readonly #installer: Installer
  readonly #settings: Record<string, Settings>
  readonly #recent = new RecentLog()
  /** What `close` ends besides the plugins: dashboards and dev-mode folder watches. */
  readonly #dashboards = new Set<() => Promise<void>>()
  readonly #rootWatches = new Set<Disposable>()
  readonly #statePath: string
  #store: StateStore | undefined
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
    this.#lifecycle = new Lifecycle(this.#plugins, this.#options.logger)
    this.#installer = new Installer({
      installDir: options.installDir,
      plugins: this.#options.plugins,
      trustedKeys: options.trustedKeys,
      dirOf: (id) => this.#plugins.runtime(id).loaded.dir,
      stop: (id) => this.#lifecycle.stopWithDependants(id),
      rescan: () => this.rescan(),
    })
    this.#dispatch = {
      call: (id, method, args, reason, callOptions) => this.#lifecycle.call(id, method, args, callOptions ?? {}, reason),
      activate: (id, reason) => this.#lifecycle.activate(id, reason),
      usable: (id) => this.#plugins.get(id)?.runtime.usable ?? false,
      active: (id) => this.#plugins.get(id)?.runtime.running ?? false,
      rank: (id) => this.#plugins.rank(id),
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
    const scan = await discover(this.#options.plugins, this.#options.logger)
    return rescan(scan, {
      plugins: this.#plugins,
      log: this.#options.logger,
      stop: (id) => this.#lifecycle.stopWithDependants(id),
      admit: (loaded) => this.#admit(loaded),
      disabled: () => (this.#statePath === ':memory:' ? new Set<string>() : this.#state.disabledPlugins()),
    })
  }

  /**
   * Installs a package (docs/packaging.md) into `installDir` and rescans: the plugin can be called
   * at once, and an upgraded one restarts with its new code on its next call. With `trustedKeys`
   * set, only packages signed by one of them install.
   */
  install(file: string, options: InstallOptions = {}): Promise<InstallResult> {
    return this.#installer.install(file, options)
  }

  /** Stops and removes a plugin that `install` put in `installDir`, then rescans. */
  uninstall(id: string): Promise<void> {
    return this.#installer.uninstall(id)
  }

  /** Activates every plugin whose manifest lists `onStartup`, dependencies first. Failures are logged, not thrown. */
  startup(): Promise<void> {
    return this.#lifecycle.startup()
  }

  /** Every resolved plugin (unavailable and disabled ones included), dependencies first. */
  list(): PluginInfo[] {
    return this.#plugins.runtimes().map((runtime) => runtime.info())
  }

  /** Plugin folders that were not loaded: invalid manifests and duplicate ids. */
  invalid(): readonly InvalidPlugin[] {
    return this.#plugins.invalid()
  }

  has(id: string): boolean {
    return this.#plugins.has(id)
  }

  /** Per plugin: state, activation reason and times, call and error counts, latency percentiles per method. */
  stats(): PluginStats[] {
    return this.#plugins.runtimes().map((runtime) => runtime.stats())
  }

  /** What each running plugin occupies (process RSS, worker heap, WebAssembly linear memory), as far as its placement shows. */
  async memory(): Promise<PluginMemory[]> {
    const all = await Promise.all(this.#plugins.runtimes().map((runtime) => runtime.memory()))
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
    const runtime = this.#plugins.runtime(id)
    this.#lifecycle.assertOpen(id)
    const lifecycle = this.#lifecycle
    return {
      id,
      info: () => runtime.info(),
      // No reason: `onMethod:METHOD` is built only when the call has to start the plugin.
      call: (method, args, options) => lifecycle.call(id, method, args ?? [], options ?? NO_OPTIONS),
      notify: async (method, args) => {
        await lifecycle.activate(id, `onMethod:${method}`)
        await runtime.notify(method, args ?? [])
      },
      onNotification: (method, listener) => runtime.notifications.on(method, listener),
      proxy: <Api>(options: CallOptions = {}) =>
        createProxy<Api>((method, args) => lifecycle.call(id, method, args, options)),
      activate: (reason) => lifecycle.activate(id, reason ?? 'explicit'),
      stop: () => lifecycle.stopWithDependants(id).then(() => {}),
      pid: () => runtime.pid,
      reset: () => runtime.reset(),
    }
  }

  /** The plugin that provides API `name` (or has that id): what a dependant gets through `host/plugins.call`. */
  provider(name: string): PluginHandle {
    if (this.#plugins.has(name)) return this.plugin(name)
    const hit = this.#plugins.provider(name)
    if (hit === undefined) throw new PolyplugError(ErrorCodes.PLUGIN_NOT_FOUND, `no plugin provides "${name}"`)
    return this.plugin(hit)
  }

  /** The validated settings of a plugin, defaults applied. */
  settings(id: string): Settings {
    return this.#plugins.entry(id).config().get()
  }

  /** Changes a plugin's settings (CONFIG_INVALID keeps the old ones); a running plugin is told through `$/config`. */
  async configure(id: string, values: Settings): Promise<Settings> {
    const entry = this.#plugins.entry(id)
    const next = entry.config().set(values)
    const runtime = entry.runtime
    if (runtime.running) await runtime.call('$/config', [next], {}, 'configure').catch((e: unknown) => this.#options.logger({ level: 'warn', plugin: id, message: `$/config: ${toPolyplugError(e).message}` }))
    return next
  }

  /** The application's view of a plugin's storage (the same data the plugin reads through `host/storage.*`). */
  storage(id: string): PluginStorage {
    const quota = this.#plugins.runtime(id).manifest.limits?.storageBytes ?? DEFAULT_STORAGE_QUOTA
    return pluginStorage(() => this.#state, id, quota)
  }

  /** Enables or disables a plugin, persistently. Disabling stops it (and its running dependants). */
  async setEnabled(id: string, enabled: boolean): Promise<void> {
    const runtime = this.#plugins.runtime(id)
    this.#state.setEnabled(id, enabled)
    // Disabled first, so that no call can start it again while it stops.
    runtime.setDisabled(!enabled)
    if (!enabled) await this.#lifecycle.stopWithDependants(id)
  }

  /**
   * Stops a plugin and starts it again without restarting the host. What its `deactivate`
   * returned reaches the next `activate` as `context.previousState`. Worker and process plugins
   * load their code afresh; inline ones reuse the loaded module.
   */
  async reload(id: string): Promise<void> {
    const snapshot = await this.#plugins.runtime(id).stop()
    await this.#lifecycle.activate(id, 'reload', snapshot)
  }

  /** Dev mode: reloads the plugin whenever a file in its folder changes (debounced). Returns a stop function. */
  watch(id: string, onReload?: (error?: PolyplugError) => void): Disposable {
    const entry = this.#plugins.entry(id)
    const stop = watchPaths([entry.runtime.loaded.dir], { recursive: true, debounceMs: 100 }, () => {
      this.reload(id).then(() => onReload?.(), (e: unknown) => onReload?.(toPolyplugError(e)))
    })
    entry.watch(stop)
    return stop
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
    const rescanNow = oneAtATime(async () => {
      if (this.#lifecycle.closed) return
      await this.rescan().then(
        (result) => onRescan?.(result),
        (e: unknown) => onRescan?.(toPolyplugError(e)),
      )
    })
    const stopWatching = watchPaths(this.#options.plugins.map((root) => resolve(root)), { recursive: false, debounceMs: 200 }, rescanNow)
    const stop = () => {
      stopWatching()
      this.#rootWatches.delete(stop)
    }
    this.#rootWatches.add(stop)
    return stop
  }

  /** Stops every running plugin, dependants before their dependencies, then closes the state store. Idempotent. */
  async close(): Promise<void> {
    this.#lifecycle.markClosed()
    for (const close of [...this.#dashboards]) await close()
    for (const stop of [...this.#rootWatches]) stop()
    for (const id of this.#plugins.ids()) this.#plugins.get(id)?.takeWatch()?.()
    await this.#lifecycle.stopAll()
    this.#store?.close()
  }

  /** A plugin that appeared or changed: its runtime, the host API its sessions get, and what its manifest contributes. */
  #admit(loaded: LoadedManifest): PluginEntry {
    const id = loaded.manifest.id
    const runtime: PluginRuntime = new PluginRuntime(loaded, {
      logger: this.#options.logger,
      logLevel: this.#options.logLevel,
      callTimeoutMs: this.#options.callTimeoutMs,
      startTimeoutMs: this.#options.startTimeoutMs,
      pingTimeoutMs: this.#options.pingTimeoutMs,
      restart: this.#options.restart,
      sandbox: this.#options.sandbox,
      config: () => entry.config().get(),
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
          config: () => entry.config().get(),
          storage: () => this.storage(id),
          provides: (other) => this.#plugins.get(other)?.runtime.manifest.provides,
          track: (dispose) => entry.session.add(dispose),
        }),
      onSessionEnd: () => entry.session.dispose(),
    })
    const entry = new PluginEntry(runtime, this.#settings[id])
    this.#registerContributions(entry)
    return entry
  }

  /** Registers what the manifest contributes; the entry releases it when the plugin goes or changes. */
  #registerContributions({ runtime, contributions }: PluginEntry): void {
    const m = runtime.manifest
    contributions.add(this.commands.addManifest(m))
    for (const h of m.contributes?.hooks ?? []) contributions.add(this.hooks.addPluginHandler(h.hook, m.id, h.method, h.order ?? 'normal', true))
    for (const e of m.contributes?.events ?? []) contributions.add(this.events.addPluginSubscription(e.topic, m.id, e.method, true))
    for (const event of m.activation ?? []) if (event.startsWith('onEvent:')) contributions.add(this.events.addActivator(event.slice('onEvent:'.length), m.id))
  }
}

/** Creates a host, discovers and resolves its plugins, and starts those that ask for `onStartup`. */
export async function createHost(options: HostOptions): Promise<Host> {
  const host = new Host(options)
  await host.discover()
  await host.startup()
  return host
}
