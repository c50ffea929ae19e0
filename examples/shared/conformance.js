// The conformance interface every example plugin implements, whatever its kind, placement or
// transport. This one is JavaScript; the same file runs inline or in a worker, as its manifest says.
import { definePlugin, PolyplugError } from 'polyplug/sdk'

let cancelled = 0
let produced = 0

export default definePlugin({
  activate(ctx) {
    ctx.log.debug(`activated ${ctx.id}`)
  },
  methods: {
    /** @param {unknown} value */
    echo(value) {
      return value
    },
    /** @param {number} a @param {number} b */
    add(a, b) {
      return a + b
    },
    /** Throws a typed error carrying `code`. @param {string} code */
    fail(code) {
      throw new PolyplugError(code, `failed on request with code ${code}`)
    },
    /** Resolves after `ms`, or rejects with RPC_CANCELLED as soon as the caller cancels. */
    sleep(ms, ctx) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(ms), ms)
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer)
          cancelled++
          reject(new PolyplugError('RPC_CANCELLED', `sleep(${ms}) cancelled`))
        }, { once: true })
      })
    },
    /** How many `sleep` calls saw their cancellation: proves `$/cancel` reached the plugin. */
    cancelCount() {
      return cancelled
    },
    /** Returns `n` bytes: byte i is i % 256. @param {number} n */
    bytes(n) {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = i & 255
      return out
    },
    /** Calls the host API and returns its answer. */
    callHost(method, args, ctx) {
      return ctx.plugin.call(method, args)
    },
    /**
     * A stream out: yields 0, 1, ... n-1. With `failAt`, fails with E_STREAM instead of yielding
     * that item. A consumer that stops early cancels it, which `cancelCount` counts.
     * @param {number} n @param {number} [failAt]
     */
    async *count(n, failAt) {
      let ended = false
      try {
        for (let i = 0; i < n; i++) {
          if (i === failAt) {
            ended = true
            throw new PolyplugError('E_STREAM', `count failed at ${i}`)
          }
          produced++
          yield i
        }
        ended = true
      } finally {
        if (!ended) cancelled++
      }
    },
    /** Items `count` has yielded so far, over all calls: shows how far a producer ran ahead. */
    produced() {
      return produced
    },
    /** A stream in: adds its numbers, and the byte lengths of its byte chunks. @param {AsyncIterable<number | Uint8Array>} items */
    async sum(items) {
      let total = 0
      for await (const item of items) total += item instanceof Uint8Array ? item.byteLength : item
      return total
    },
    /** Dies abruptly: only exercised where the placement isolates the plugin. */
    crash() {
      process.exit(70)
    },
  },
})
