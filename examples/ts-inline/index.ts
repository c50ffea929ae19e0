// The conformance interface (docs/conformance.md) written in TypeScript: the host transpiles it
// on load (src/kinds/ts-hooks.ts), inline, in a worker (examples/ts-worker) or in its own
// process (examples/ts-process). No build step.
import { definePlugin, PolyplugError, type MethodContext } from 'polyplug/sdk'
import { pattern } from './bytes.js'

interface HostCaller {
  plugin: { call(method: string, args: unknown[]): Promise<unknown> }
}

let cancelled = 0
let produced = 0

export default definePlugin({
  methods: {
    echo<T>(value: T): T {
      return value
    },
    add(a: number, b: number): number {
      return a + b
    },
    fail(code: string): never {
      throw new PolyplugError(code, `failed on request with code ${code}`)
    },
    sleep(ms: number, ctx: MethodContext): Promise<number> {
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => resolve(ms), ms)
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer)
            cancelled++
            reject(new PolyplugError('RPC_CANCELLED', `sleep(${ms}) cancelled`))
          },
          { once: true },
        )
      })
    },
    cancelCount: (): number => cancelled,
    bytes: (n: number): Uint8Array => pattern(n),
    callHost(method: string, args: unknown[], ctx: MethodContext & HostCaller): Promise<unknown> {
      return ctx.plugin.call(method, args)
    },
    async *count(n: number, failAt?: number): AsyncGenerator<number> {
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
    produced: (): number => produced,
    async sum(items: AsyncIterable<number | Uint8Array>): Promise<number> {
      let total = 0
      for await (const item of items) total += item instanceof Uint8Array ? item.byteLength : item
      return total
    },
    crash(): never {
      process.exit(70)
    },
  },
})
