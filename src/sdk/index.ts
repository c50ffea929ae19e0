/** polyplug/sdk — what plugin authors import. */
export { definePlugin, eventListener, isPluginDefinition } from './define.js'
export type { EventListener, EventMeta, MethodContext, PluginContext, PluginDefinition, PluginLogger, LogLevel } from './define.js'
export { servePlugin, type ServeOptions } from './serve.js'
export { PROTOCOL_VERSION } from './protocol.js'
export { PolyplugError, isPolyplugError } from '../rpc/errors.js'
export { ErrorCodes, type ErrorCode, type AnyErrorCode } from '../errors/index.js'
export type { CallContext, Remote } from '../rpc/types.js'
