/** What a plugin author writes: `export default definePlugin({ methods, activate, deactivate })`. */
import type { CallContext, CallOptions, Remote } from '../rpc/types.js'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

export interface PluginLogger {
  trace(...args: unknown[]): void
  debug(...args: unknown[]): void
  info(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
}

/** The host as a plugin sees it, the same whatever the plugin's placement or transport. */
export interface PluginContext {
  /** The plugin's manifest id. */
  readonly id: string
  /** Settings the host passed at activation (updated in place when the host sends `$/config`). */
  readonly config: Readonly<Record<string, unknown>>
  /** On a reload: what the previous instance's `deactivate` returned; otherwise undefined. */
  readonly previousState: unknown
  /** Lines go to the host's log, tagged with the plugin id. */
  readonly log: PluginLogger
  /** The least severe level the host logs (its `logLevel` option); finer lines may be skipped. */
  readonly logLevel: LogLevel
  /** Calls a host API method, e.g. `ctx.call('host/info')`. */
  call<T = unknown>(method: string, args?: unknown[], options?: CallOptions): Promise<T>
  /** A typed view of the host API. */
  host<Api>(): Remote<Api>
}

/** The trailing argument of every plugin method: cancellation signal, progress, and the plugin context. */
export interface MethodContext extends CallContext {
  readonly plugin: PluginContext
}

export interface PluginDefinition<Methods extends object = object> {
  /** The methods callers can invoke; each receives its arguments, then a MethodContext. */
  readonly methods: Methods
  /** Runs once before the first call. */
  activate?(context: PluginContext): void | Promise<void>
  /**
   * Runs once at shutdown; resources the plugin opened should be released here. A serialisable
   * value it returns is handed to the next instance's `activate` on a reload (`context.previousState`).
   */
  deactivate?(): unknown
  /** Optional: what the plugin occupies, reported to the host's dashboard and /metrics (`$/usage`). */
  usage?(): { heapBytes?: number; linearMemoryBytes?: number }
  /**
   * What the plugin reports in `$/hello`'s `capabilities`. Default `["streams"]`: its methods may
   * return and take AsyncIterables (docs/protocol.md §7.1). Kinds whose ABI cannot (wasm, native) say `[]`.
   */
  readonly capabilities?: readonly string[]
  /** Called when the host changes the plugin's settings; `context.config` already holds them. */
  configChanged?(config: Readonly<Record<string, unknown>>, context: PluginContext): void | Promise<void>
}

/** What an event listener receives after the payload (docs/protocol.md: `[payload, {topic, from?}]`). */
export interface EventMeta {
  readonly topic: string
  /** The publishing plugin's id; absent when the application published. */
  readonly from?: string
}

/** A method named in `contributes.events` or subscribed with `host/events.subscribe`: the payload, its meta, then the MethodContext. */
export type EventListener<Payload = unknown, Result = unknown> = (payload: Payload, meta: EventMeta, ctx: MethodContext) => Result

/**
 * Types a method as an event listener, so a listener written `(payload, ctx)` (where `ctx` would be
 * the EventMeta) fails to type-check instead of failing at run time. It returns `fn` unchanged.
 */
export function eventListener<Payload = unknown, Result = unknown>(fn: EventListener<Payload, Result>): EventListener<Payload, Result> {
  return fn
}

/** For kinds whose ABI moves one value per call: they do not speak the stream protocol. */
export const NO_STREAMS: readonly string[] = Object.freeze([])

const brand = Symbol.for('polyplug.plugin')

/** What a type error says when a method takes a rest parameter (see `definePlugin`). */
export type VariadicMethodError =
  'polyplug: a method cannot take a rest parameter (...args): its MethodContext arrives as one more argument after the caller\'s. Take an array instead: sum(xs: number[], ctx)'

/** Each method as written, or the error above in place of a method whose parameter list is variadic. */
export type CheckedMethods<Methods> = {
  [K in keyof Methods]: Methods[K] extends (...args: infer A) => unknown ? (number extends A['length'] ? VariadicMethodError : Methods[K]) : Methods[K]
}

/**
 * Declares a plugin. The same file runs inline, in a worker or in a process: its manifest chooses.
 * Each method gets the caller's arguments, then its MethodContext. A variadic method (`sum(...xs)`)
 * would receive the context among its arguments, so its type is refused with `VariadicMethodError`.
 */
export function definePlugin<Methods extends object>(definition: PluginDefinition<Methods> & { readonly methods: CheckedMethods<Methods> }): PluginDefinition<Methods> {
  if (typeof definition !== 'object' || definition === null || typeof definition.methods !== 'object') {
    throw new TypeError('definePlugin expects { methods: {...}, activate?, deactivate? }')
  }
  return Object.assign(Object.create(null) as object, definition, { [brand]: true }) as PluginDefinition<Methods>
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return typeof value === 'object' && value !== null && typeof (value as PluginDefinition).methods === 'object'
}
