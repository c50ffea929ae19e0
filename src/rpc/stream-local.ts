/**
 * The same stream contract as over a channel, for a stream that never leaves the thread (inline
 * plugins' direct calls): the caller's deadline (each item or the whole stream), its AbortSignal,
 * and errors typed and naming the plugin and method. Flow control is the source's own: nothing
 * is pulled before the consumer asks for it.
 */
import { RpcErrorCodes, PolyplugError, toPolyplugError } from './errors.js'
import type { ConsumeOptions } from './stream.js'

export function guardLocalStream<T>(source: AsyncIterable<T>, options: ConsumeOptions, plugin: string | undefined, method: string): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]()
  const { timeout, timeoutCovers, signal } = options
  const deadline = timeout && timeout > 0 ? (timeoutCovers === 'stream' ? (options.deadline ?? Date.now() + timeout) : undefined) : undefined
  let finished = false
  const stop = () => {
    if (finished) return
    finished = true
    Promise.resolve()
      .then(() => iterator.return?.())
      .catch(() => {})
  }
  const typed = (code: string, message: string) => new PolyplugError(code, message, { plugin, method })
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    async next(): Promise<IteratorResult<T>> {
      if (finished) return { value: undefined, done: true }
      if (signal?.aborted) {
        stop()
        throw typed(RpcErrorCodes.RPC_CANCELLED, 'stream cancelled by the caller')
      }
      const waitMs = deadline !== undefined ? deadline - Date.now() : timeout && timeout > 0 ? timeout : 0
      let timer: ReturnType<typeof setTimeout> | undefined
      let onAbort: (() => void) | undefined
      const giveUp = new Promise<never>((_resolve, reject) => {
        if (waitMs !== 0 || deadline !== undefined) {
          const message = deadline !== undefined ? `stream did not end within ${timeout} ms` : `no stream item within ${timeout} ms`
          timer = setTimeout(() => reject(typed(RpcErrorCodes.RPC_TIMEOUT, message)), Math.max(0, waitMs))
        }
        if (signal) {
          onAbort = () => reject(typed(RpcErrorCodes.RPC_CANCELLED, 'stream cancelled by the caller'))
          signal.addEventListener('abort', onAbort, { once: true })
        }
      })
      try {
        const step = timer === undefined && onAbort === undefined ? await iterator.next() : await Promise.race([iterator.next(), giveUp])
        if (step.done) finished = true
        return step
      } catch (error) {
        stop()
        finished = true
        throw toPolyplugError(error ?? new Error('stream failed')).withContext(plugin, method)
      } finally {
        if (timer !== undefined) clearTimeout(timer)
        if (onAbort) signal?.removeEventListener('abort', onAbort)
      }
    },
    async return(): Promise<IteratorResult<T>> {
      stop()
      return { value: undefined, done: true }
    },
  }
}
