/** polyplug — the host API for applications. Plugin authors import `polyplug/sdk`. */
export { createHost, Host, type HostOptions, type PluginHandle, type InvalidPlugin } from './host/host.js'
export type { PluginInfo, PluginState } from './host/plugin.js'
export type { HostApi, HostCallContext } from './host/host-api.js'
export { stderrLogger, silentLogger, type HostLogger, type LogEntry, type LogLevel } from './host/log.js'
export * from './manifest/index.js'
export * from './rpc/index.js'
export { definePlugin, type PluginDefinition, type PluginContext, type MethodContext } from './sdk/index.js'
export { portChannel, type PortLike } from './transports/port.js'
