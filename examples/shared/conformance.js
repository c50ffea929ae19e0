// The conformance interface every example plugin implements, whatever its kind, placement or
// transport. This one is JavaScript; the same file runs inline or in a worker, as its manifest says.
import { definePlugin, PolyplugError } from 'polyplug/sdk'

let cancelled = 0

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
    /** Dies abruptly: only exercised where the placement isolates the plugin. */
    crash() {
      process.exit(70)
    },
  },
})
