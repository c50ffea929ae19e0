/**
 * The form of a JSON-RPC message on a batched port (./port.ts), where both ends are polyplug's
 * port channel. A structured clone writes every key of an object with its name, so the Peer's
 * `{jsonrpc, id, method, params}` costs about twice the clone of `[tag, id, method, params]`
 * (Node 20: 1.4 against 0.8 µs to post and receive one). A message of exactly one of the Peer's
 * shapes travels as a small array led by a number tag, and is rebuilt on arrival with the same
 * keys and values; any other value travels as itself. The messages of one post (a batch) travel as
 * one flat array of such entries one after the other, a message of any other shape as the entry
 * `[PLAIN, message]`: a clone of one flat array costs half that of an array of small arrays (Node 20,
 * 64 requests: 0.24 against 0.49 µs per message to make, post and receive). A port whose other end
 * reads message by message (`unbatched`) keeps the plain form.
 */
import type { Message } from './wire.js'

/** Entry tags, each followed by its fields; WIDTH[tag] is the entry's length, its tag included. */
const REQUEST = 0 // id, method, params, traceparent
const NOTIFICATION = 1 // method, params, traceparent
const RESULT = 2 // id, result
const ERROR = 3 // id, error
const PLAIN = 4 // message (a batch's message of any other shape)
const WIDTH = [5, 4, 3, 3, 2]

/** A compact message or a packed batch: an array led by an entry tag (a message itself is never an array). */
export function isCompact(value: unknown): value is unknown[] {
  return Array.isArray(value) && typeof value[0] === 'number'
}

/** Whether one post's `value` carries a single message: anything but a packed batch of two or more entries. */
export function carriesOne(value: unknown): boolean {
  return !isCompact(value) || value.length === WIDTH[value[0] as number]
}

/** The compact form of `value` when it is exactly one of the Peer's message shapes; else `value`. */
export function compact(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  const m = value as Record<string, unknown>
  if (m.jsonrpc !== '2.0') return value
  // Every key must be one the compact form carries: counted against the ones it expects, without
  // the array Object.keys would make per message (an inherited key counts too: such a message
  // travels as itself).
  let keys = 0
  for (const _key in m) keys++
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

/** What one post of `messages` carries: the one message compact, or every message's entry in one flat array. */
export function pack(messages: readonly unknown[]): unknown {
  if (messages.length === 1) return compact(messages[0])
  const out: unknown[] = []
  for (const message of messages) {
    const entry = compact(message)
    if (entry === message) out.push(PLAIN, message)
    else for (const field of entry as unknown[]) out.push(field)
  }
  return out
}

/**
 * Hands each message one post carries to `each`, in its plain form and in order: the entries of a
 * packed array, or the value itself. An entry with an unknown tag ends the walk: the rest is
 * handed on as it came, for the Peer to refuse (as is an array not led by a tag).
 */
export function unpack(value: unknown, each: (message: unknown) => void): void {
  if (!isCompact(value)) return each(value)
  for (let at = 0; at < value.length; ) {
    const width = WIDTH[value[at] as number]
    if (width === undefined) return each(at === 0 ? value : value.slice(at))
    each(entryAt(value, at))
    at += width
  }
}

/** The messages one post carries, each in its plain form (see `unpack`). */
export function messagesOf(value: unknown): unknown[] {
  const messages: unknown[] = []
  unpack(value, (message) => messages.push(message))
  return messages
}

/** Calls `each` with the method and params of every request and notification one post carries, without rebuilding the messages. */
export function eachCall(value: unknown, each: (method: string, params: unknown) => void): void {
  const plain = (message: unknown) => {
    const m = message as { method?: unknown; params?: unknown } | null
    if (typeof m?.method === 'string') each(m.method, m.params)
  }
  if (!isCompact(value)) return plain(value)
  for (let at = 0; at < value.length; ) {
    const tag = value[at]
    const width = WIDTH[tag as number]
    if (width === undefined) return
    if (tag === REQUEST && typeof value[at + 2] === 'string') each(value[at + 2] as string, value[at + 3])
    else if (tag === NOTIFICATION && typeof value[at + 1] === 'string') each(value[at + 1] as string, value[at + 2])
    else if (tag === PLAIN) plain(value[at + 1])
    at += width
  }
}

/** The message a compact form stands for; an array with an unknown tag is returned as it came, for the Peer to refuse. */
export function expand(value: unknown[]): unknown {
  return WIDTH[value[0] as number] === undefined ? value : entryAt(value, 0)
}

/** The plain message of the entry at `at` of a compact array (its tag is known). */
function entryAt(value: unknown[], at: number): unknown {
  switch (value[at]) {
    case REQUEST:
    case NOTIFICATION: {
      const request = value[at] === REQUEST
      const m = (request ? { jsonrpc: '2.0', id: value[at + 1], method: value[at + 2] } : { jsonrpc: '2.0', method: value[at + 1] }) as Record<string, unknown>
      const fields = at + (request ? 3 : 2)
      if (value[fields] !== undefined) m.params = value[fields]
      if (value[fields + 1] !== undefined) m.traceparent = value[fields + 1]
      return m as unknown as Message
    }
    case RESULT:
      return { jsonrpc: '2.0', id: value[at + 1], result: value[at + 2] }
    case ERROR:
      return { jsonrpc: '2.0', id: value[at + 1], error: value[at + 2] }
    default:
      return value[at + 1] // PLAIN
  }
}
