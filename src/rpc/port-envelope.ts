/**
 * The form of a JSON-RPC message on a batched port (./port.ts), where both ends are polyplug's
 * port channel. A structured clone writes every key of an object with its name, so the Peer's
 * `{jsonrpc, id, method, params}` costs about twice the clone of `[tag, id, method, params]`
 * (Node 20: 1.4 against 0.8 µs to post and receive one). A message of exactly one of the Peer's
 * shapes travels as a small array led by a number tag, and is rebuilt on arrival with the same
 * keys and values; any other value travels as itself. A port a sync bridge reads message by
 * message (`unbatched`) keeps the plain form: the bridge reads envelopes.
 */
import type { Message } from './wire.js'

const REQUEST = 0
const NOTIFICATION = 1
const RESULT = 2
const ERROR = 3

/** A compact message: an array led by its tag (a batch is an array of messages, never led by a number). */
export function isCompact(value: unknown): value is unknown[] {
  return Array.isArray(value) && typeof value[0] === 'number'
}

/** The compact form of `value` when it is exactly one of the Peer's message shapes; else `value`. */
export function compact(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  const m = value as Record<string, unknown>
  if (m.jsonrpc !== '2.0') return value
  // Every key must be one the compact form carries: counted against the ones it expects.
  const keys = Object.keys(m).length
  if (typeof m.method === 'string') {
    const optional = (m.params !== undefined ? 1 : 0) + (m.traceparent !== undefined ? 1 : 0)
    if ('id' in m) return keys === 3 + optional ? [REQUEST, m.id, m.method, m.params, m.traceparent] : value
    return keys === 2 + optional ? [NOTIFICATION, m.method, m.params, m.traceparent] : value
  }
  if (keys !== 3 || !('id' in m)) return value
  if ('result' in m) return [RESULT, m.id, m.result]
  if ('error' in m) return [ERROR, m.id, m.error]
  return value
}

/** The messages one post carries, each in its plain form: a batch's in order, or the one message. */
export function messagesOf(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [value]
  if (isCompact(value)) return [expand(value)]
  return value.map((message) => (isCompact(message) ? expand(message) : message))
}

/** The method a request or notification names, in either form; undefined for anything else. */
export function methodOf(value: unknown): string | undefined {
  const method = Array.isArray(value) ? (value[0] === REQUEST ? value[2] : value[0] === NOTIFICATION ? value[1] : undefined) : (value as { method?: unknown } | null)?.method
  return typeof method === 'string' ? method : undefined
}

/** The params of a request or notification, in either form. */
export function paramsOf(value: unknown): unknown {
  if (!Array.isArray(value)) return (value as { params?: unknown } | null)?.params
  return value[0] === REQUEST ? value[3] : value[0] === NOTIFICATION ? value[2] : undefined
}

/** The message a compact form stands for; an array with an unknown tag is returned as it came, for the Peer to refuse. */
export function expand(value: unknown[]): unknown {
  switch (value[0]) {
    case REQUEST:
    case NOTIFICATION: {
      const request = value[0] === REQUEST
      const m = (request ? { jsonrpc: '2.0', id: value[1], method: value[2] } : { jsonrpc: '2.0', method: value[1] }) as Record<string, unknown>
      const at = request ? 3 : 2
      if (value[at] !== undefined) m.params = value[at]
      if (value[at + 1] !== undefined) m.traceparent = value[at + 1]
      return m as unknown as Message
    }
    case RESULT:
      return { jsonrpc: '2.0', id: value[1], result: value[2] }
    case ERROR:
      return { jsonrpc: '2.0', id: value[1], error: value[2] }
    default:
      return value
  }
}
