/**
 * The floor of an inline plugin call under polyplug's contract, written by hand: the method found
 * by name, a context object handed to it, a throw caught as a typed error naming the plugin and
 * method, the call counted, and the caller given a promise. Nothing else: no lifecycle, no
 * deadline, no latency statistics, no tracing. The js inline rows measure polyplug against it
 * (`profile.js inline-floor`, and beside `js inline echo` at 256 in flight in the throughput case).
 */
import { ErrorCodes } from '../src/errors/index.js'
import { PolyplugError, toPolyplugError } from '../src/rpc/errors.js'

/** What the method is handed as its last argument. */
class FloorContext {
  constructor(
    readonly method: string,
    readonly plugin: string,
  ) {}
}

export interface InlineFloor {
  call(method: string, args: unknown[]): Promise<unknown>
  /** Calls made, and calls that failed. */
  readonly calls: number
  readonly errors: number
}

export function inlineFloor(id: string, methods: Record<string, (...args: never[]) => unknown>): InlineFloor {
  const table = new Map(Object.entries(methods) as [string, (...args: unknown[]) => unknown][])
  let calls = 0
  let errors = 0
  return {
    call(method, args) {
      calls++
      const fn = table.get(method)
      try {
        if (fn === undefined) throw new PolyplugError(ErrorCodes.METHOD_NOT_FOUND, `no method "${method}"`)
        return Promise.resolve(fn(args[0], new FloorContext(method, id)))
      } catch (error) {
        errors++
        return Promise.reject(toPolyplugError(error).withContext(id, method))
      }
    },
    get calls() {
      return calls
    },
    get errors() {
      return errors
    },
  }
}
