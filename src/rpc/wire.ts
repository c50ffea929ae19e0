/**
 * JSON-RPC 2.0 message shapes and the mapping between PolyplugError and the wire error object.
 * Spec: https://www.jsonrpc.org/specification — polyplug's additions are in docs/protocol.md.
 */
import { RpcErrorCodes, PolyplugError, type AnyErrorCode } from './errors.js'

export type RequestId = number | string

export interface RequestMessage {
  jsonrpc: '2.0'
  id: RequestId
  method: string
  params?: unknown[] | Record<string, unknown>
  /** W3C trace context of the caller (docs/protocol.md §trace context); optional, passed on by every peer. */
  traceparent?: string
}

export interface NotificationMessage {
  jsonrpc: '2.0'
  method: string
  params?: unknown[] | Record<string, unknown>
  traceparent?: string
}

export interface WireError {
  /** JSON-RPC numeric code. */
  code: number
  message: string
  /** polyplug puts the stable string code (and plugin, method, user data) here. */
  data?: { code?: string; plugin?: string; method?: string; data?: unknown } | unknown
}

export interface ResponseMessage {
  jsonrpc: '2.0'
  id: RequestId | null
  result?: unknown
  error?: WireError
}

export type Message = RequestMessage | NotificationMessage | ResponseMessage

/** Reserved protocol methods (docs/protocol.md). */
export const Reserved = {
  hello: '$/hello',
  activate: '$/activate',
  cancel: '$/cancel',
  /** LSP's name for `$/cancel` (same params); accepted wherever `$/cancel` is. */
  cancelRequest: '$/cancelRequest',
  ping: '$/ping',
  log: '$/log',
  progress: '$/progress',
  shutdown: '$/shutdown',
  /** Host -> plugin request: the plugin's settings changed; params `[config]`, answer `{}`. */
  config: '$/config',
  /** Host -> plugin request: what the plugin occupies, `{ heapBytes?, linearMemoryBytes? }` (dashboard, /metrics); a plugin may answer METHOD_NOT_FOUND. */
  usage: '$/usage',
} as const

/** Whether a notification asks to cancel a request: polyplug's `$/cancel` or LSP's `$/cancelRequest`. */
export function isCancel(method: string): boolean {
  return method === Reserved.cancel || method === Reserved.cancelRequest
}

/**
 * Notifications a lossy transport must still deliver, in order (e.g. MQTT QoS 1): cancellation
 * and the stream messages, whose loss would leave a call or a stream waiting forever.
 */
export function mustArrive(method: string): boolean {
  return isCancel(method) || method.startsWith('$/stream/')
}

/**
 * Numeric codes for JSON-RPC peers that only look at `code`: the table in schema/error-codes.json,
 * which every kit carries too (test/error-codes.test.ts keeps them equal). JSON-RPC's and LSP's
 * codes keep their meanings; polyplug's own live in -31000..-31099, outside every reserved range.
 */
export const numericCodes: Readonly<Record<string, number>> = {
  [RpcErrorCodes.PARSE_ERROR]: -32700,
  [RpcErrorCodes.INVALID_REQUEST]: -32600,
  [RpcErrorCodes.METHOD_NOT_FOUND]: -32601,
  [RpcErrorCodes.INVALID_PARAMS]: -32602,
  [RpcErrorCodes.INTERNAL_ERROR]: -32603,
  [RpcErrorCodes.SERVER_NOT_INITIALIZED]: -32002,
  [RpcErrorCodes.UNKNOWN_ERROR_CODE]: -32001,
  [RpcErrorCodes.RPC_CANCELLED]: -32800,
  [RpcErrorCodes.CONTENT_MODIFIED]: -32801,
  [RpcErrorCodes.SERVER_CANCELLED]: -32802,
  [RpcErrorCodes.REQUEST_FAILED]: -32803,
  [RpcErrorCodes.RPC_TIMEOUT]: -31001,
  [RpcErrorCodes.PERMISSION_DENIED]: -31002,
  [RpcErrorCodes.FRAME_TOO_LARGE]: -31003,
  [RpcErrorCodes.MESSAGE_TOO_DEEP]: -31004,
  [RpcErrorCodes.DUPLICATE_REQUEST_ID]: -31005,
}
/** Any other string code (a plugin's own, or one of polyplug's without a number of its own). */
export const APPLICATION_ERROR = -31000

const codesByNumber = new Map<number, AnyErrorCode>(Object.entries(numericCodes).map(([code, n]) => [n, code]))

/** Encodes an error for the wire: code, message, data — never the stack. */
export function errorToWire(error: PolyplugError): WireError {
  const data: Record<string, unknown> = { code: error.code }
  if (error.plugin !== undefined) data.plugin = error.plugin
  if (error.method !== undefined) data.method = error.method
  if (error.data !== undefined) data.data = error.data
  return { code: numericCodes[error.code] ?? APPLICATION_ERROR, message: error.message, data }
}

/**
 * Revives a wire error; accepts errors from any JSON-RPC peer, not only polyplug ones. A polyplug
 * peer's `data` is `{code, plugin?, method?, data?}`; any other `data` (a foreign peer's, of any
 * JSON type) is kept whole as the error's `data`, and the string code comes from the number.
 */
export function errorFromWire(wire: WireError): PolyplugError {
  const data = isPolyplugData(wire.data) ? wire.data : undefined
  const code = data ? data.code : (codesByNumber.get(wire.code) ?? RpcErrorCodes.INTERNAL_ERROR)
  return new PolyplugError(code, typeof wire.message === 'string' ? wire.message : 'error without message', {
    plugin: typeof data?.plugin === 'string' ? data.plugin : undefined,
    method: typeof data?.method === 'string' ? data.method : undefined,
    data: data ? data.data : wire.data,
  })
}

const POLYPLUG_DATA_KEYS = new Set(['code', 'plugin', 'method', 'data'])

/** `data` as polyplug writes it: a string `code`, and no keys but code, plugin, method, data. */
function isPolyplugData(value: unknown): value is { code: string; plugin?: unknown; method?: unknown; data?: unknown } {
  return isRecord(value) && typeof value.code === 'string' && Object.keys(value).every((k) => POLYPLUG_DATA_KEYS.has(k))
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** What a decoded value is: a valid message's kind, or why it is not a valid message. */
export type Classified = 'request' | 'notification' | 'response' | Invalid

/** `response`: it answers a call (it has no method); a response is never answered back. */
export interface Invalid {
  kind: 'invalid'
  id: RequestId | null
  reason: string
  response?: boolean
}

function isId(value: unknown): value is RequestId {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string'
}

function invalid(id: RequestId | null, reason: string, response?: boolean): Invalid {
  return response ? { kind: 'invalid', id, reason, response } : { kind: 'invalid', id, reason }
}

/**
 * Checks a decoded value against the JSON-RPC 2.0 shapes. A valid message is answered with its
 * kind alone (the value is then that message): nothing is allocated for the messages every call
 * sends and receives; only an invalid one gets an object saying why.
 */
export function classify(value: unknown): Classified {
  if (!isRecord(value)) return invalid(null, 'message is not an object')
  const id = isId(value.id) ? value.id : null
  if (value.jsonrpc !== '2.0') return invalid(id, 'jsonrpc must be "2.0"')
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method === '') return invalid(id, 'method must be a non-empty string')
    if (value.params !== undefined && typeof value.params !== 'object') return invalid(id, 'params must be an array or an object')
    if (value.params === null) return invalid(id, 'params must be an array or an object')
    if (!('id' in value)) return 'notification'
    if (id === null) return invalid(null, 'id must be a string or a finite number')
    return 'request'
  }
  if ('result' in value || 'error' in value) {
    if (value.id !== null && id === null) return invalid(null, 'response id is invalid', true)
    if ('error' in value && !(isRecord(value.error) && typeof value.error.code === 'number')) {
      return invalid(id, 'error must be an object with a numeric code', true)
    }
    return 'response'
  }
  return invalid(id, 'message has neither method nor result/error')
}
