/**
 * polyplug — what an application needs to host plugins: the host, its types, the errors, and the
 * registration of its own transports and kinds. Everything else has its own entry point
 * (docs/api.md): plugin authors import `polyplug/sdk`; the manifest schema and validation are
 * `polyplug/manifest`; packing and installing packages `polyplug/package`; the RPC core
 * `polyplug/rpc`. test/public-api.test.ts pins each list, so a change to it is deliberate.
 */
export { createHost, Host, type HostOptions, type PluginHandle, type InvalidPlugin, type PluginStorage, type RescanResult } from './host/host.js'
export type { PluginInfo, PluginMemory, PluginState, PluginStats } from './host/plugin.js'
export type { Settings } from './host/config.js'
export type { LogRecord } from './host/recent-log.js'
export { HOST_VERSION, type HostApi, type HostCallContext } from './host/host-api.js'
export type { CommandInfo } from './host/commands.js'
export type { HookKind, HookOptions, HookOrder } from './host/hooks.js'
export type { EventMeta } from './host/events.js'
export type { GrantPolicy } from './host/permissions.js'
export type { RestartPolicyOptions } from './host/supervisor.js'
export type { SandboxOptions } from './placement/sandbox.js'
export { LATENCY_BUCKETS_MS, type LatencyHistogram, type MethodStats } from './host/stats.js'
export type { Disposable } from './host/dispatch.js'
export { stderrLogger, silentLogger, type HostLogger, type LogEntry, type LogLevel } from './host/log.js'
export type { Manifest } from './manifest/schema.js'
export type { InstallOptions, InstallResult } from './package/install.js'
export type { CallContext, CallOptions, Remote } from './rpc/types.js'
export { PolyplugError, isPolyplugError, type PolyplugErrorOptions, type ForeignErrorData } from './rpc/errors.js'
export { ErrorCodes, errorLayer, type AnyErrorCode, type ErrorCode, type ErrorLayer } from './errors/index.js'
// Transports and kinds of the application's own: register before creating the host (also at polyplug/registry).
export { registerTransport, registerKind } from './registry/index.js'
export { serveDashboard, pluginMetrics, type Dashboard, type DashboardOptions } from './dashboard/public.js'
