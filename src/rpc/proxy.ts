import type { Remote } from './types.js'

/**
 * A typed stand-in for a remote API: property access returns a function that calls the method.
 * `then` is left undefined so that `await proxy` does not turn into a call.
 */
export function createProxy<Api>(call: (method: string, args: unknown[]) => Promise<unknown>): Remote<Api> {
  return new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (typeof key !== 'string' || key === 'then') return undefined
      return (...args: unknown[]) => call(key, args)
    },
  }) as Remote<Api>
}
