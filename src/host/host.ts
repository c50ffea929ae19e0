/** The embeddable host: discovers plugins, starts them lazily, routes calls. */
import { discoverPlugins } from '../manifest/load.js'
import type { ManifestError } from '../manifest/validate.js'
import { ErrorCodes, PolyplugError } from '../rpc/errors.js'
import type { CallOptions, Remote } from '../rpc/types.js'
import type { HostApi } from './host-api.js'
import type { RestartPolicyOptions } from './supervisor.js'
import { stderrLogger, type HostLogger } from './log.js'
import { PluginRuntime, type PluginInfo } from './plugin.js'

export interface HostOptions {
  /** Folders to scan: each may be a plugin folder or hold plugin folders. */
  plugins: string[]
  /** Functions plugins may call as `host/<name>`. */
  api?: HostApi
  logger?: HostLogger
  /** Default per-call deadline (ms) for plugins whose manifest sets none. Default 30000. */
  callTimeoutMs?: number
  /** Deadline for a plugin's handshake and `activate` (ms). Default 10000. */
  startTimeoutMs?: number
  /** Heartbeat deadline after a timed-out call (ms). Default 1000. */
  pingTimeoutMs?: number
  /** Restart backoff and circuit breaker for plugins that crash (src/host/supervisor.ts). */
  restart?: RestartPolicyOptions
}

export interface InvalidPlugin {
  dir: string
  error: ManifestError
}

/** A handle on one plugin: calls activate it on demand. */
export interface PluginHandle {
  readonly id: string
  info(): PluginInfo
  call<T = unknown>(method: string, args?: unknown[], options?: CallOptions): Promise<T>
  proxy<Api>(options?: CallOptions): Remote<Api>
  activate(reason?: string): Promise<void>
  stop(): Promise<void>
  /** Re-enables a plugin quarantined after crashing too often. */
  reset(): void
  /** The plugin's process id while it runs in a process of its own. */
  pid(): number | undefined
}

export class Host {
  readonly #options: Required<Omit<HostOptions, 'api'>> & { api: HostApi }
  readonly #plugins = new Map<string, PluginRuntime>()
  #invalid: InvalidPlugin[] = []
  #closed = false

  constructor(options: HostOptions) {
    this.#options = {
      api: {},
      logger: stderrLogger(),
      callTimeoutMs: 30_000,
      startTimeoutMs: 10_000,
      pingTimeoutMs: 1_000,
      restart: {},
      ...options,
    }
  }

  /** Scans the plugin folders and validates every manifest. No plugin code runs. */
  async discover(): Promise<void> {
    const found = await discoverPlugins(this.#options.plugins)
    this.#invalid = []
    for (const item of found) {
      if (!item.ok) {
        this.#invalid.push({ dir: item.dir, error: item.error })
        this.#options.logger({ level: 'error', message: item.error.message })
        continue
      }
      const id = item.loaded.manifest.id
      const existing = this.#plugins.get(id)
      if (existing) {
        this.#options.logger({ level: 'error', plugin: id, message: `duplicate plugin id in ${item.loaded.dir}; keeping ${existing.info().dir}` })
        continue
      }
      this.#plugins.set(id, new PluginRuntime(item.loaded, { ...this.#options }))
    }
  }

  list(): PluginInfo[] {
    return [...this.#plugins.values()].map((p) => p.info())
  }

  invalid(): readonly InvalidPlugin[] {
    return this.#invalid
  }

  has(id: string): boolean {
    return this.#plugins.has(id)
  }

  plugin(id: string): PluginHandle {
    const runtime = this.#plugins.get(id)
    if (!runtime) throw new PolyplugError(ErrorCodes.PLUGIN_NOT_FOUND, `no plugin with id "${id}"`, { plugin: id })
    if (this.#closed) throw new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'host is closed', { plugin: id })
    return {
      id,
      info: () => runtime.info(),
      call: (method, args, options) => runtime.call(method, args, options),
      proxy: (options) => runtime.proxy(options),
      activate: async (reason) => {
        await runtime.activate(reason)
      },
      stop: () => runtime.stop(),
      pid: () => runtime.pid,
      reset: () => runtime.reset(),
    }
  }

  /** Stops every running plugin. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#plugins.values()].map((p) => p.stop()))
  }
}

/** Creates a host and discovers its plugins. */
export async function createHost(options: HostOptions): Promise<Host> {
  const host = new Host(options)
  await host.discover()
  return host
}
