/**
 * The plugin side of the protocol: answers `$/hello`, `$/activate` and `$/shutdown`, exposes the
 * plugin's methods, and gives it a PluginContext whose calls travel back to the host.
 * Placement-independent: inline, worker and process carriers all call `servePlugin`.
 */
import type { Channel } from '../channels/channel.js'
import { BINARY_CAPABILITY, binaryJsonCodec, jsonReadingAttachments, mayAttach } from '../rpc/attachments.js'
import { jsonCodec } from '../rpc/codec.js'
import { Peer, type PeerOptions } from '../rpc/peer.js'
import { methodEntries } from '../rpc/peer.js'
import { PolyplugError, RpcErrorCodes, toPolyplugError } from '../rpc/errors.js'
import { Reserved } from '../rpc/wire.js'
import { invokeAlone, invokeWithArity } from '../rpc/invoke.js'
import { argumentsSeen } from './arguments-seen.js'
import { PluginCall } from '../rpc/plugin-call.js'
import type { CallContext } from '../rpc/types.js'
import type { LogLevel, MethodContext, PluginContext, PluginDefinition, PluginLogger } from './define.js'
import { contextFor } from './trace.js'
import { PROTOCOL_VERSION, type ActivateParams, type HelloParams, type HelloResult, type UsageResult } from './protocol.js'

export interface ServeOptions extends Omit<PeerOptions, 'name'> {
  id: string
  /** The per-launch secret returned in the `$/hello` answer; default POLYPLUG_TOKEN from the environment. */
  token?: string
  /** Called after `$/shutdown` has run `deactivate` and answered; carriers exit here. */
  onShutdown?: () => void
  /**
   * Inline placement: receives the plugin's methods and context, to call them directly
   * (src/sdk/direct.ts, which the inline placement imports: a worker or process carrier never loads it).
   */
  exposeDirect?: (methods: PluginDefinition['methods'], context: PluginContext) => void
  /** What the carrier can tell about the plugin's resources (e.g. a worker's heap), merged into `$/usage`. */
  usage?: () => UsageResult
}

export function servePlugin(channel: Channel, definition: PluginDefinition, options: ServeOptions): Peer {
  // Bytes as attachments (docs/protocol.md §4.1): read in either form; sent once the host offered them.
  const attach = mayAttach(channel, options.codec ?? jsonCodec)
  const peer = new Peer(channel, { ...options, name: options.id, ...(attach ? { codec: jsonReadingAttachments } : {}) })
  let config: Record<string, unknown> = {}
  let previousState: unknown
  let logLevel: LogLevel = 'info'
  const log = createLogger(peer)
  const token = options.token ?? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.POLYPLUG_TOKEN
  const context: PluginContext = {
    id: options.id,
    get config() {
      return config
    },
    get previousState() {
      return previousState
    },
    log,
    get logLevel() {
      return logLevel
    },
    call: (method, args = [], callOptions) => peer.call(method, args, callOptions),
    host: () => peer.proxy(),
  }

  options.exposeDirect?.(definition.methods, context)

  peer.handle(Reserved.hello, (params): HelloResult => {
    const hello = (params ?? {}) as Partial<HelloParams>
    const versions = hello.protocol ?? [PROTOCOL_VERSION]
    if (!versions.includes(PROTOCOL_VERSION)) {
      throw new PolyplugError(RpcErrorCodes.PROTOCOL_MISMATCH, `host speaks protocol ${versions.join(', ')}, plugin speaks ${PROTOCOL_VERSION}`)
    }
    const binary = attach && (hello.capabilities ?? []).includes(BINARY_CAPABILITY)
    if (binary) peer.setCodec(binaryJsonCodec)
    return {
      protocol: PROTOCOL_VERSION,
      id: options.id,
      methods: methodEntries(definition.methods).map(([name]) => name),
      encodings: options.codec ? [options.codec.name] : ['json', 'msgpack'],
      capabilities: [...(definition.capabilities ?? ['streams']), ...(binary ? [BINARY_CAPABILITY] : [])],
      ...(token ? { token } : {}),
    }
  })
  peer.handle(Reserved.activate, async (params) => {
    const activate = (params ?? {}) as ActivateParams
    config = (activate.config ?? {}) as Record<string, unknown>
    previousState = activate.state
    logLevel = activate.logLevel ?? 'info'
    try {
      await definition.activate?.(context)
    } catch (error) {
      throw await locatedError(error)
    }
    return {}
  })
  peer.handle(Reserved.config, async (params) => {
    config = ((Array.isArray(params) ? params[0] : params) ?? {}) as Record<string, unknown>
    await definition.configChanged?.(config, context)
    return {}
  })
  peer.handle(Reserved.usage, (): UsageResult => ({ ...options.usage?.(), ...definition.usage?.() }))
  peer.handle(Reserved.shutdown, async () => {
    const state = await definition.deactivate?.()
    if (options.onShutdown) setTimeout(options.onShutdown, 0) // after the answer has left
    return state === undefined ? {} : { state }
  })
  for (const [name, fn] of methodEntries(definition.methods)) {
    const arity = fn.length // read once, not per request
    // The arguments the method can read (./arguments-seen.ts), from its source at its first call
    // with positional params: called with at least as many, it cannot reach a context, and none is made.
    let seen = NaN
    peer.handle(name, (params, call: CallContext) => {
      if (Array.isArray(params)) {
        if (Number.isNaN(seen)) seen = argumentsSeen(fn)
        if (params.length >= seen) return invokeAlone(fn, definition.methods, params)
      }
      const methodContext: MethodContext = new PluginCall(call, contextFor(context, call.traceparent))
      return invokeWithArity(fn, arity, definition.methods, params, methodContext)
    })
  }
  return peer
}

/** The error `activate` threw, its message ending with where in the plugin's files it was thrown; code and data kept. */
async function locatedError(error: unknown): Promise<unknown> {
  // Loaded only when an activate throws: a plugin that starts cleanly never loads it.
  const { throwSite } = await import('./throw-site.js')
  const site = await throwSite(error)
  if (!site) return error
  const e = toPolyplugError(error)
  return new PolyplugError(e.code, `${e.message} (at ${site.file}:${site.line}:${site.column})`, { cause: error, data: e.data })
}

function createLogger(peer: Peer): PluginLogger {
  const send = (level: LogLevel) => (...args: unknown[]) => {
    const message = args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ')
    peer.notify(Reserved.log, { level, message }).catch(() => {})
  }
  return { trace: send('trace'), debug: send('debug'), info: send('info'), warn: send('warn'), error: send('error') }
}

function safeJson(value: unknown): string {
  if (value instanceof Error) return value.stack ?? value.message
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

/**
 * For a plugin that failed to load: answers the host's `$/hello` with the load error, so the host
 * reports why (e.g. PLUGIN_UNAVAILABLE with the cause) instead of a crash.
 */
export function serveLoadError(channel: Channel, id: string, error: unknown, codec?: PeerOptions['codec']): void {
  new Peer(channel, { name: id, ...(codec ? { codec } : {}) }).handle(Reserved.hello, () => {
    throw error
  })
}
