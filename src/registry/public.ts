/**
 * polyplug/registry — what an application needs to bring its own transport or kind: register it
 * before creating the host (docs/architecture.md, "The registry"). Light to import: a process or
 * worker carrier imports a registered module's `url`, and with it this file.
 */
export { registerTransport, registerKind, transportNames, kindNames } from './index.js'
// What a transport's or kind's errors are made of.
export { PolyplugError } from '../rpc/errors.js'
export { ErrorCodes } from '../errors/index.js'
export type * from './types.js'
export type { SidecarTransport, SidecarEndpoint, SidecarContext, ChildStreams } from '../transports/sidecar.js'
