/**
 * Lets a wasm plugin in a worker block on the host without deadlock: the guest's synchronous
 * imports (host calls, sleep) park the worker thread in `Atomics.wait` on a SharedArrayBuffer
 * word that the host bumps after every message it posts (placement/worker.ts), and pull messages
 * off the port with `receiveMessageOnPort` while the event loop is stopped. What arrives meanwhile:
 *  - the answer awaited by a host call ends the wait;
 *  - `$/cancel` is delivered to the plugin's Peer at once (it aborts the call's signal synchronously)
 *    and aborts nested calls;
 *  - `$/ping` is answered at once: a guest waiting here is alive, a spinning one never gets here;
 *  - a request for a plugin method runs at once, nested in the waiting call (the guest is re-entered,
 *    as in a message pump), so a sleeping plugin keeps serving;
 *  - anything else is kept and replayed, in order, once the current call has returned.
 * The host batches its posts: a batch is handled one message at a time, and a guest that blocks
 * in the middle of one reads the rest of it first, as it would read separate posts. The plugin's
 * channel batches its posts too; the pump flushes that batch before each post of its own (host
 * calls, nested answers) and before its guest blocks, so messages keep their order and an answer
 * never waits behind a blocked guest.
 * While a request is being handed to a method (by the channel or nested here), `currentRequest()`
 * names it: a kind whose calls block this thread files their cancel flags under it (native).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { WasmBridge } from './wasm.js'
import { PolyplugError, toPolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { invokeWithContext } from '../rpc/invoke.js'
import { methodEntries } from '../rpc/peer.js'
import { errorFromWire, errorToWire, isCancel, isRecord, Reserved, type RequestId, type WireError } from '../rpc/wire.js'
import type { PluginDefinition } from '../sdk/define.js'
import type { PortLike } from '../registry/types.js'
import { messagesOf } from '../rpc/port-envelope.js'

export interface WasmPump {
  /** The port to build the plugin's channel on (so replayed messages reach the same listener). */
  readonly port: PortLike
  readonly bridge: WasmBridge
  /** The loaded plugin, whose methods nested requests call. */
  serve(definition: PluginDefinition): void
  /** The id of the request being dispatched right now, synchronously; undefined outside a dispatch. */
  currentRequest(): RequestId | undefined
}

type Listener = (value: unknown) => void

export function createWasmPump(port: MessagePort, wake: Int32Array, pluginId: string): WasmPump {
  let listener: Listener | undefined
  let registered: Listener | undefined
  let current: RequestId | undefined
  let methods: Map<string, (...args: unknown[]) => unknown> | undefined
  let api: object | undefined
  const held: unknown[] = []
  /** Messages of a received batch not handled yet, oldest first (`next` is the first). */
  let inbox: unknown[] = []
  let next = 0
  /** Sends what the plugin's channel holds (its batch of this tick). */
  let flushChannel = () => {}
  const post = (value: unknown) => {
    flushChannel()
    port.postMessage(value)
  }
  const nested = new Map<RequestId, AbortController>()
  let nextId = 0

  const replay = () => {
    for (const message of held.splice(0)) listener?.(message)
    drain()
  }
  /** The next message received and not handled yet: the rest of a batch first, then the port's queue. */
  const take = (): { message: unknown } | undefined => {
    if (next < inbox.length) return { message: inbox[next++] }
    const received = receiveMessageOnPort(port)
    if (!received) return undefined
    inbox = messagesOf(received.message)
    next = 0
    return take()
  }
  /** Hands the rest of a batch to the channel, in order; stops while held messages wait to be replayed first. */
  const drain = () => {
    while (held.length === 0 && next < inbox.length) listener?.(inbox[next++])
  }
  const onBatch = (value: unknown) => {
    // Messages still waiting from an earlier batch (a replay pending) go first.
    inbox = next < inbox.length ? [...inbox.slice(next), ...messagesOf(value)] : messagesOf(value)
    next = 0
    drain()
  }
  const hold = (message: unknown) => {
    // Microtasks cannot run while a guest call blocks this thread, so this runs after it returns.
    if (held.push(message) === 1) queueMicrotask(replay)
  }

  /** Handles one message; returns it when it is the response `awaited` is waiting for. */
  function handle(message: unknown, awaited: RequestId | undefined): Record<string, unknown> | undefined {
    if (!isRecord(message)) return void hold(message)
    const { id, method } = message as { id?: RequestId; method?: unknown }
    if (typeof method !== 'string') {
      if (id !== undefined && id === awaited) return message
      return void hold(message)
    }
    if (isCancel(method)) {
      const target = (message.params as { id?: RequestId } | undefined)?.id
      if (target !== undefined) nested.get(target)?.abort()
      listener?.(message)
      return undefined
    }
    if (id === undefined) return void hold(message)
    if (method === Reserved.ping) return void post({ jsonrpc: '2.0', id, result: {} })
    const fn = methods?.get(method)
    if (!fn) return void hold(message)
    runNested(fn, id, method, message.params)
    return undefined
  }

  function runNested(fn: (...args: unknown[]) => unknown, id: RequestId, method: string, params: unknown): void {
    const controller = new AbortController()
    nested.set(id, controller)
    const context = { signal: controller.signal, method, progress() {} }
    const outer = current
    current = id
    try {
      // The same argument rules as a call through the Peer (positional params, context last).
      const result = invokeWithContext(fn, api, params as unknown[] | Record<string, unknown> | undefined, context)
      post({ jsonrpc: '2.0', id, result: result ?? null })
    } catch (error) {
      const e = toPolyplugError(error).withContext(pluginId, method)
      post({ jsonrpc: '2.0', id, error: errorToWire(e) })
    } finally {
      current = outer
      nested.delete(id)
    }
  }

  /** Serves messages until `done()` or the deadline; one Atomics.wait per empty queue. */
  function pump(deadline: number, done: () => boolean, awaited?: RequestId): Record<string, unknown> | undefined {
    flushChannel() // what this thread answered before its guest blocked leaves now
    for (;;) {
      if (done()) return undefined
      const seen = Atomics.load(wake, 0) // read before polling, so a post in between wakes us
      const received = take()
      if (received) {
        const answer = handle(received.message, awaited)
        if (answer) {
          // The rest of its batch is handled as usual once the guest has returned.
          if (next < inbox.length) queueMicrotask(drain)
          return answer
        }
        continue
      }
      const left = deadline - performance.now()
      if (left <= 0) return undefined
      Atomics.wait(wake, 0, seen, Math.min(left, 2 ** 31 - 1))
    }
  }

  const bridge: WasmBridge = {
    callHost(method, params, signal) {
      const id = `wasm-host-${++nextId}`
      post({ jsonrpc: '2.0', id, method, params })
      const response = pump(Infinity, () => signal.aborted, id)
      if (!response) {
        post({ jsonrpc: '2.0', method: Reserved.cancel, params: { id } })
        return { ok: false, error: new PolyplugError(RpcErrorCodes.RPC_CANCELLED, `host call ${method} abandoned: the plugin call was cancelled`, { method }) }
      }
      if (response.error) return { ok: false, error: errorFromWire(response.error as WireError) }
      return { ok: true, value: response.result }
    },
    wait(ms, signal) {
      pump(performance.now() + ms, () => signal.aborted)
      return signal.aborted
    },
    exit(code) {
      flushChannel()
      process.exit(code)
    },
  }

  return {
    port: {
      // Every message of a tick in one post, as the host's side of the bridge sends them (placement/worker.ts).
      wholeTicks: true,
      postMessage: (value) => port.postMessage(value),
      // The pump posts on this port too (host calls, nested answers): it sends the channel's batch first.
      adoptFlush(flush) {
        flushChannel = flush
      },
      on(event, fn) {
        if (event !== 'message') return port.on(event, fn)
        registered = fn
        listener = (message) => {
          const outer = current
          current = isRecord(message) && typeof message.method === 'string' && (typeof message.id === 'number' || typeof message.id === 'string') ? message.id : undefined
          try {
            fn(message)
          } finally {
            current = outer
          }
        }
        return port.on(event, onBatch)
      },
      off(event, fn) {
        if (event !== 'message' || registered !== fn || !listener) return port.off(event, fn)
        listener = registered = undefined
        return port.off(event, onBatch)
      },
    },
    bridge,
    serve(definition) {
      api = definition.methods
      methods = new Map(methodEntries(definition.methods))
    },
    currentRequest: () => current,
  }
}
