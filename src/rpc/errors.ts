/**
 * Errors that cross process and language boundaries. Each carries a stable string `code`
 * (match on it, never on the message), and where known the plugin and method involved.
 */

/**
 * The RPC layer's codes: the protocol's own, which any peer or kit may send. The other layers
 * (transport, plugin, host, package, manifest) define theirs in src/errors/; the whole catalog,
 * with each code's meaning, cause and fix, is schema/error-codes.json (docs/errors.md).
 */
export const RpcErrorCodes = {
  PARSE_ERROR: 'PARSE_ERROR',
  INVALID_REQUEST: 'INVALID_REQUEST',
  METHOD_NOT_FOUND: 'METHOD_NOT_FOUND',
  INVALID_PARAMS: 'INVALID_PARAMS',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVER_NOT_INITIALIZED: 'SERVER_NOT_INITIALIZED',
  UNKNOWN_ERROR_CODE: 'UNKNOWN_ERROR_CODE',
  RPC_CANCELLED: 'RPC_CANCELLED',
  CONTENT_MODIFIED: 'CONTENT_MODIFIED',
  SERVER_CANCELLED: 'SERVER_CANCELLED',
  REQUEST_FAILED: 'REQUEST_FAILED',
  RPC_TIMEOUT: 'RPC_TIMEOUT',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  MESSAGE_TOO_DEEP: 'MESSAGE_TOO_DEEP',
  DUPLICATE_REQUEST_ID: 'DUPLICATE_REQUEST_ID',
  CHANNEL_CLOSED: 'CHANNEL_CLOSED',
  CHANNEL_FULL: 'CHANNEL_FULL',
  PROTOCOL_MISMATCH: 'PROTOCOL_MISMATCH',
  STREAMS_UNSUPPORTED: 'STREAMS_UNSUPPORTED',
  STREAM_OVERRUN: 'STREAM_OVERRUN',
  FOREIGN_ERROR: 'FOREIGN_ERROR',
} as const

export type RpcErrorCode = (typeof RpcErrorCodes)[keyof typeof RpcErrorCodes]

/** Any code: one of polyplug's (src/errors/), or a plugin's own string code. */
export type AnyErrorCode = RpcErrorCode | (string & {})

export interface PolyplugErrorOptions {
  cause?: unknown
  plugin?: string
  method?: string
  data?: unknown
}

/**
 * Marks every PolyplugError, whichever copy of this module made it: a carrier runs from a bundled
 * build (its own copy of the RPC core), while a plugin's `polyplug/sdk` and an application's
 * transport or kind import the package's modules, so one thread can hold two PolyplugError classes.
 */
const errorBrand = Symbol.for('polyplug.error')

export class PolyplugError extends Error {
  /**
   * `value instanceof PolyplugError` holds for a PolyplugError of any copy of this module (by its
   * brand, not its prototype chain), so its code survives `toPolyplugError` instead of turning into
   * FOREIGN_ERROR. A subclass (`ManifestError`) keeps the ordinary check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== PolyplugError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as { [errorBrand]?: unknown })[errorBrand] === true
  }

  override readonly name = 'PolyplugError'
  readonly code: AnyErrorCode
  readonly plugin: string | undefined
  readonly method: string | undefined
  readonly data: unknown

  constructor(code: AnyErrorCode, message: string, options: PolyplugErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.plugin = options.plugin
    this.method = options.method
    this.data = options.data
  }

  /** A copy tagged with plugin and method where this error does not name them yet. */
  withContext(plugin: string | undefined, method: string | undefined): PolyplugError {
    if ((this.plugin ?? plugin) === this.plugin && (this.method ?? method) === this.method) return this
    const copy = new PolyplugError(this.code, this.message, {
      cause: this.cause,
      plugin: this.plugin ?? plugin,
      method: this.method ?? method,
      data: this.data,
    })
    copy.stack = this.stack
    return copy
  }

  toJSON(): { code: string; message: string; plugin?: string; method?: string; data?: unknown } {
    return { code: this.code, message: this.message, plugin: this.plugin, method: this.method, data: this.data }
  }
}

Object.defineProperty(PolyplugError.prototype, errorBrand, { value: true })

export function isPolyplugError(value: unknown, code?: AnyErrorCode): value is PolyplugError {
  return value instanceof PolyplugError && (code === undefined || value.code === code)
}

/** What FOREIGN_ERROR keeps of the original error in `data` (Node's system error fields). */
const FOREIGN_FIELDS = ['code', 'errno', 'syscall', 'path', 'dest', 'address', 'port', 'hostname'] as const

/** FOREIGN_ERROR's `data`: the original error's own code and, where it had them, its system fields. */
export type ForeignErrorData = { code: string } & Partial<Record<(typeof FOREIGN_FIELDS)[number], string | number>>

/**
 * Wraps anything thrown into a PolyplugError. A PolyplugError is kept as it is. Any other error's
 * own `code` (Node's ENOENT or ERR_*, a library's) is not a polyplug code: it becomes
 * FOREIGN_ERROR, the original code, errno, syscall and path in `data` and the error as `cause`.
 * Node's permission model refusals (ERR_ACCESS_DENIED) become PERMISSION_DENIED.
 */
export function toPolyplugError(value: unknown, fallback: AnyErrorCode = RpcErrorCodes.INTERNAL_ERROR): PolyplugError {
  if (value instanceof PolyplugError) return value
  if (value instanceof Error) {
    const own = (value as Error & { code?: unknown }).code
    if (own === 'ERR_ACCESS_DENIED') {
      // Node's permission model refused an operation (docs/confinement.md): say which, and on what.
      const { permission, resource } = value as Error & { permission?: unknown; resource?: unknown }
      return new PolyplugError(RpcErrorCodes.PERMISSION_DENIED, value.message, { cause: value, data: { permission, resource } })
    }
    if (typeof own === 'string') return new PolyplugError(RpcErrorCodes.FOREIGN_ERROR, value.message, { cause: value, data: foreignData(value) })
    return new PolyplugError(fallback, value.message, { cause: value })
  }
  return new PolyplugError(fallback, typeof value === 'string' ? value : 'non-error value thrown', { data: value })
}

function foreignData(error: Error): ForeignErrorData {
  const data: Record<string, string | number> = {}
  for (const field of FOREIGN_FIELDS) {
    const v = (error as unknown as Record<string, unknown>)[field]
    if (typeof v === 'string' || typeof v === 'number') data[field] = v
  }
  return data as ForeignErrorData
}
