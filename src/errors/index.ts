/**
 * polyplug's error catalog, grouped by layer. Each layer's codes are defined on their own (the RPC
 * core's in src/rpc/errors.ts, the others beside this file); `ErrorCodes` is their union, what
 * applications match on. Every code's meaning, typical cause and fix: schema/error-codes.json, from
 * which docs/errors.md is generated (test/error-codes.test.ts keeps all three in step).
 */
import { RpcErrorCodes } from '../rpc/errors.js'
import { HostErrorCodes } from './host.js'
import { ManifestErrorCodes } from './manifest.js'
import { PackageErrorCodes } from './package.js'
import { PluginErrorCodes } from './plugin.js'
import { TransportErrorCodes } from './transport.js'

/** Each layer's own codes. */
export const ErrorLayers = {
  rpc: RpcErrorCodes,
  transport: TransportErrorCodes,
  plugin: PluginErrorCodes,
  host: HostErrorCodes,
  package: PackageErrorCodes,
  manifest: ManifestErrorCodes,
} as const

export type ErrorLayer = keyof typeof ErrorLayers

/** Every code polyplug itself produces. Plugins may use their own codes too (any string). */
export const ErrorCodes = {
  ...RpcErrorCodes,
  ...TransportErrorCodes,
  ...PluginErrorCodes,
  ...HostErrorCodes,
  ...PackageErrorCodes,
  ...ManifestErrorCodes,
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** Any polyplug code, or a plugin's own string code (autocompletes the known ones). */
export type AnyErrorCode = ErrorCode | (string & {})

const layerOf = new Map<string, ErrorLayer>(Object.entries(ErrorLayers).flatMap(([layer, codes]) => Object.values(codes).map((code) => [code, layer as ErrorLayer] as const)))

/** The layer a polyplug code belongs to; undefined for a plugin's own code. */
export function errorLayer(code: AnyErrorCode): ErrorLayer | undefined {
  return layerOf.get(code)
}
