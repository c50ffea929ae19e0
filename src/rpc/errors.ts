/**
 * Errors that cross process and language boundaries. Each carries a stable string `code`
 * (match on it, never on the message), and where known the plugin and method involved.
 */

/** The codes polyplug itself produces. Plugins may use their own codes too (any string). */
export const ErrorCodes = {
  /** The call did not finish before its deadline. */
  RPC_TIMEOUT: 'RPC_TIMEOUT',
  /** The caller aborted the call. */
  RPC_CANCELLED: 'RPC_CANCELLED',
  /** The channel closed (cleanly) while the call was in flight, or a send was tried after close. */
  CHANNEL_CLOSED: 'CHANNEL_CLOSED',
  /** The plugin's worker or process died. */
  PLUGIN_CRASHED: 'PLUGIN_CRASHED',
  /** The plugin stopped answering heartbeats and was terminated. */
  PLUGIN_HUNG: 'PLUGIN_HUNG',
  /** The plugin did not complete its start-up handshake in time. */
  PLUGIN_START_TIMEOUT: 'PLUGIN_START_TIMEOUT',
  /** A WebAssembly plugin trapped (`unreachable`, out-of-bounds access, stack overflow); its instance is re-created. */
  PLUGIN_TRAPPED: 'PLUGIN_TRAPPED',
  /** A plugin's memory would exceed its limit (limits.memoryMb): refused at load, or ran out at run time. */
  PLUGIN_MEMORY_LIMIT: 'PLUGIN_MEMORY_LIMIT',
  /** A synchronous host call from a plugin that cannot wait for the host (a `wasm` plugin placed `inline`). */
  HOST_CALL_UNAVAILABLE: 'HOST_CALL_UNAVAILABLE',
  /** The plugin's `activate` threw or rejected. */
  ACTIVATION_FAILED: 'ACTIVATION_FAILED',
  PLUGIN_NOT_FOUND: 'PLUGIN_NOT_FOUND',
  /** The plugin cannot be started (bad manifest, missing entry, unsupported kind/placement). */
  PLUGIN_UNAVAILABLE: 'PLUGIN_UNAVAILABLE',
  METHOD_NOT_FOUND: 'METHOD_NOT_FOUND',
  INVALID_PARAMS: 'INVALID_PARAMS',
  /** A message that is not a valid JSON-RPC 2.0 request, response or notification. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** Bytes that the codec could not decode. */
  PARSE_ERROR: 'PARSE_ERROR',
  /** A request reused the id of a request still in flight. */
  DUPLICATE_REQUEST_ID: 'DUPLICATE_REQUEST_ID',
  /** A message larger than the configured limit. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** Bytes on a stream that do not form a frame (bad header, truncated frame, invalid UTF-8 line). */
  FRAME_INVALID: 'FRAME_INVALID',
  /** A partial frame stopped arriving for longer than the frame-read timeout. */
  FRAME_TIMEOUT: 'FRAME_TIMEOUT',
  /** The plugin crashed too often in a short window and is quarantined until re-enabled. */
  PLUGIN_QUARANTINED: 'PLUGIN_QUARANTINED',
  /** A message nested deeper than the configured limit. */
  MESSAGE_TOO_DEEP: 'MESSAGE_TOO_DEEP',
  /** The two sides share no protocol version or encoding. */
  PROTOCOL_MISMATCH: 'PROTOCOL_MISMATCH',
  /** A stream was passed to a plugin that did not declare the `streams` capability in `$/hello`. */
  STREAMS_UNSUPPORTED: 'STREAMS_UNSUPPORTED',
  /** A stream producer sent more items than its consumer granted (docs/protocol.md §7.1). */
  STREAM_OVERRUN: 'STREAM_OVERRUN',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  /** A plugin's declared build (`build` in its manifest) failed; run by `polyplug check`/`dev`, never by the host. */
  BUILD_FAILED: 'BUILD_FAILED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  TRANSPORT_UNAVAILABLE: 'TRANSPORT_UNAVAILABLE',
  /** A process plugin needs sandbox rules this system does not enforce (docs/confinement.md). */
  SANDBOX_UNAVAILABLE: 'SANDBOX_UNAVAILABLE',
  /** Host resolution: two plugins share an id (the first found is kept). */
  DUPLICATE_PLUGIN_ID: 'DUPLICATE_PLUGIN_ID',
  /** Host resolution: a dependency names no installed plugin or provided API. */
  DEPENDENCY_MISSING: 'DEPENDENCY_MISSING',
  /** An optional npm package a capability needs (mqtt, aedes, koffi, better-sqlite3) is not installed. */
  PACKAGE_MISSING: 'PACKAGE_MISSING',
  /** Host resolution: a dependency is installed but its version is outside the declared range. */
  DEPENDENCY_INCOMPATIBLE: 'DEPENDENCY_INCOMPATIBLE',
  /** Host resolution: plugins depend on each other in a cycle. */
  DEPENDENCY_CYCLE: 'DEPENDENCY_CYCLE',
  /** A dependency is unavailable, disabled or failed to activate, so its dependant cannot start. */
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  /** The plugin's `engines.polyplug` range excludes this host's API version. */
  ENGINE_INCOMPATIBLE: 'ENGINE_INCOMPATIBLE',
  /** The plugin is disabled (host.setEnabled). */
  PLUGIN_DISABLED: 'PLUGIN_DISABLED',
  COMMAND_NOT_FOUND: 'COMMAND_NOT_FOUND',
  HOOK_NOT_FOUND: 'HOOK_NOT_FOUND',
  /** Settings that their contributed JSON Schema refuses. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** A storage write past the plugin's quota. */
  STORAGE_QUOTA_EXCEEDED: 'STORAGE_QUOTA_EXCEEDED',
  /** A shared-memory region whose header, indices or records break the layout (docs/shm.md). */
  SHM_CORRUPT: 'SHM_CORRUPT',
  /** The channel stayed full past the send deadline, or its bounded send queue is full. */
  CHANNEL_FULL: 'CHANNEL_FULL',
  /** A plugin package that cannot be packed or installed: unsafe paths, wrong digests, bad manifest. */
  PACKAGE_INVALID: 'PACKAGE_INVALID',
  /** Installing would replace a plugin of another id, or the same or a newer version, without `force`. */
  PACKAGE_CONFLICT: 'PACKAGE_CONFLICT',
  /** The host trusts only signed packages, and this one is unsigned, signed by another key, or altered. */
  PACKAGE_UNTRUSTED: 'PACKAGE_UNTRUSTED',
  /** An error thrown by plugin or host code that carried no code of its own. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  // LSP's and vscode-jsonrpc's codes, so a foreign peer's numeric error keeps its meaning (docs/protocol.md 5.1).
  /** A language server refused a request sent before `initialize` (-32002). */
  SERVER_NOT_INITIALIZED: 'SERVER_NOT_INITIALIZED',
  /** vscode-jsonrpc's catch-all (-32001): an error whose code was not known. Not a timeout. */
  UNKNOWN_ERROR_CODE: 'UNKNOWN_ERROR_CODE',
  /** LSP: the document changed under the request, its result is void (-32801). */
  CONTENT_MODIFIED: 'CONTENT_MODIFIED',
  /** LSP: the server cancelled the request itself (-32802). */
  SERVER_CANCELLED: 'SERVER_CANCELLED',
  /** LSP: the request was valid but failed (-32803). */
  REQUEST_FAILED: 'REQUEST_FAILED',
  /** A native plugin was built against another ABI version or descriptor layout (docs/native-abi.md). */
  ABI_MISMATCH: 'ABI_MISMATCH',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** Any polyplug code, or a plugin's own string code (autocompletes the known ones). */
export type AnyErrorCode = ErrorCode | (string & {})

export interface PolyplugErrorOptions {
  cause?: unknown
  plugin?: string
  method?: string
  data?: unknown
}

export class PolyplugError extends Error {
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

export function isPolyplugError(value: unknown, code?: AnyErrorCode): value is PolyplugError {
  return value instanceof PolyplugError && (code === undefined || value.code === code)
}

/** Wraps anything thrown into a PolyplugError, keeping an existing code. */
export function toPolyplugError(value: unknown, fallback: AnyErrorCode = ErrorCodes.INTERNAL_ERROR): PolyplugError {
  if (value instanceof PolyplugError) return value
  if (value instanceof Error) {
    const own = (value as Error & { code?: unknown }).code
    if (own === 'ERR_ACCESS_DENIED') {
      // Node's permission model refused an operation (docs/confinement.md): say which, and on what.
      const { permission, resource } = value as Error & { permission?: unknown; resource?: unknown }
      return new PolyplugError(ErrorCodes.PERMISSION_DENIED, value.message, { cause: value, data: { permission, resource } })
    }
    const code = typeof own === 'string' ? own : fallback
    return new PolyplugError(code, value.message, { cause: value })
  }
  return new PolyplugError(fallback, typeof value === 'string' ? value : 'non-error value thrown', { data: value })
}
