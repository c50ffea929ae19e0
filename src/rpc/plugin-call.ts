import type { CallContext } from './types.js'

/**
 * A call's context handed on with the plugin it concerns (a method's PluginContext, or the id of
 * the plugin calling the host). A class, not an object literal: a literal with a getter cost V8
 * microseconds per call to create. `signal` is read from the call lazily — most methods never
 * look at theirs, and the call makes its AbortController only when one does.
 */
export class PluginCall<Plugin> implements CallContext {
  readonly #call: CallContext
  readonly method: string
  readonly traceparent: string | undefined

  constructor(
    call: CallContext,
    readonly plugin: Plugin,
  ) {
    this.#call = call
    this.method = call.method
    this.traceparent = call.traceparent
  }

  get signal(): AbortSignal {
    return this.#call.signal
  }

  progress(value: unknown): void {
    this.#call.progress(value)
  }
}
