/** What an application hands `createHost`, and the handle it gets on one plugin. */
import type { SandboxOptions } from '../placement/sandbox.js'
import type { CallOptions, Remote } from '../rpc/types.js'
import type { Settings } from './config.js'
import type { Disposable } from './dispatch.js'
import type { HostApi } from './host-api.js'
import type { HostLogger, LogLevel } from './log.js'
import type { GrantPolicy } from './permissions.js'
import type { PluginInfo } from './plugin-info.js'
import type { RestartPolicyOptions } from './supervisor.js'

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
