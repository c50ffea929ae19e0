/**
 * A running inline session's direct lane: what a call to it needs that is fixed per session or per
 * method name is found once — the plugin's method with its arity, its statistics, whether it is a
 * reserved `$/` name — so that a call is the method's own call (src/sdk/direct.ts `DirectMethod`)
 * with its meter begun. The runtime makes one when a session becomes active and drops it on every
 * change of state (stop, crash, failed start, reload), so a call never reaches a stale session.
 */
import { isStreamSource } from '../rpc/stream.js'
import type { CallOptions } from '../rpc/types.js'
import type { DirectInvoker, DirectMethod } from '../sdk/direct.js'
import type { CallStats, MethodMeter } from './stats.js'

/** One method on the lane: the plugin's method and its statistics. */
interface LaneMethod {
  readonly direct: DirectMethod
  readonly meter: MethodMeter
}

export class DirectLane {
  readonly #invoker: DirectInvoker
  readonly #stats: CallStats
  /** The plugin's $/hello listed "streams": no call needs its arguments walked for a stream. */
  readonly #streams: boolean
  /** The default deadline of a call (the manifest's, else the host's). */
  readonly #timeoutMs: number
  /** The methods called so far, by name; only names the plugin has (a name it lacks is not kept). */
  readonly #methods = new Map<string, LaneMethod>()
  /** The method called last: calls in a row to one method skip the map. */
  #lastName: string | undefined
  #last: LaneMethod | undefined

  constructor(invoker: DirectInvoker, stats: CallStats, streams: boolean, timeoutMs: number) {
    this.#invoker = invoker
    this.#stats = stats
    this.#streams = streams
    this.#timeoutMs = timeoutMs
  }

  /**
   * Calls `method` on the lane; undefined when the lane does not take this call — a reserved `$/`
   * name, a name the plugin does not have (METHOD_NOT_FOUND is the runtime's to give), a stream
   * argument to a plugin that does not speak streams (refused by the runtime) — and the caller goes
   * the runtime's general way.
   */
  call(method: string, args: unknown[], options: CallOptions): Promise<unknown> | undefined {
    const found = method === this.#lastName ? this.#last : this.#find(method)
    if (found === undefined || (!this.#streams && args.some(isStreamSource))) return undefined
    return found.direct.call(args, options, options.timeout ?? this.#timeoutMs, found.meter.begin())
  }

  #find(method: string): LaneMethod | undefined {
    let found = this.#methods.get(method)
    if (found === undefined) {
      const direct = method.startsWith('$/') ? undefined : this.#invoker.method(method)
      if (direct === undefined) return undefined
      found = { direct, meter: this.#stats.meter(method) }
      this.#methods.set(method, found)
    }
    this.#lastName = method
    this.#last = found
    return found
  }
}
