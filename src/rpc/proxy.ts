import { RpcErrorCodes, PolyplugError } from './errors.js'
import { isStreamSource } from './stream.js'
import type { Remote } from './types.js'

/**
 * A typed stand-in for a remote API: property access returns a function that calls the method.
 * `then` is left undefined so that `await proxy` does not turn into a call.
 */
export function createProxy<Api>(call: (method: string, args: unknown[]) => Promise<unknown>): Remote<Api> {
  return new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (typeof key !== 'string' || key === 'then') return undefined
      return (...args: unknown[]) => iterable(call(key, args))
    },
  }) as Remote<Api>
}

/**
 * Lets a call whose result is a stream be iterated without awaiting it first:
 * `for await (const x of api.count(3))`. For other results it is an ordinary promise.
 */
export function iterable<T>(promise: Promise<T>): Promise<T> & AsyncIterable<unknown> {
  return Object.assign(promise, {
    [Symbol.asyncIterator]() {
      let inner: AsyncIterator<unknown> | undefined
      const open = async () => {
        if (inner) return inner
        const value = await promise
        if (!isStreamSource(value)) {
          throw new PolyplugError(RpcErrorCodes.INVALID_PARAMS, 'the method returned a value, not a stream: await it instead of iterating it')
        }
        return (inner = value[Symbol.asyncIterator]())
      }
      return {
        next: async () => (await open()).next(),
        return: async () => {
          if (!inner) {
            // Broken out of before the first item: the stream, once it arrives, is cancelled.
            promise.then((value) => (isStreamSource(value) ? value[Symbol.asyncIterator]().return?.() : undefined)).catch(() => {})
            return { value: undefined, done: true as const }
          }
          return (await inner.return?.()) ?? { value: undefined, done: true as const }
        },
      }
    },
  })
}
