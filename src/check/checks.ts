/**
 * The plugin checks, written once as data: `polyplug check DIR` runs them on any plugin folder, and
 * the repository's conformance suite (test/conformance.test.ts) runs the same list on every example.
 *
 * Two groups: **protocol** checks apply to every plugin (it starts, answers an unknown method with
 * METHOD_NOT_FOUND, serves concurrent calls, stops cleanly, keeps stdout for frames); **conformance**
 * checks apply when the plugin exports the methods they exercise (docs/conformance.md) — a plugin
 * that lacks them gets a skip naming the methods to add, never a silent pass.
 */
import { isDeepStrictEqual } from 'node:util'
import type { Host, PluginHandle } from '../host/host.js'
import type { LogEntry } from '../host/log.js'
import type { Manifest } from '../manifest/schema.js'
import { blocksHostThread, crashContained } from '../registry/index.js'
import { PolyplugError } from '../rpc/errors.js'
import { Reserved } from '../rpc/wire.js'

export interface CheckContext {
  readonly host: Host
  readonly plugin: PluginHandle
  readonly manifest: Manifest
  /** Log lines the host wrote about this plugin so far. */
  readonly log: readonly LogEntry[]
}

export interface Check {
  readonly name: string
  /** Methods the plugin must export for this check to apply. */
  readonly needs?: readonly string[]
  /** Why the check cannot apply to this plugin, or undefined when it can. */
  readonly notFor?: (manifest: Manifest) => string | undefined
  /** A capability the plugin's `$/hello` answer must list for this check to apply (e.g. "streams"). */
  readonly capability?: string
  readonly run: (ctx: CheckContext) => Promise<void>
}

/** A failed check: what was done and what came back, for an author to act on. */
export class CheckFailure extends Error {
  constructor(
    message: string,
    readonly sent?: unknown,
    readonly got?: unknown,
  ) {
    super(message)
  }
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`
  if (value instanceof PolyplugError) return `${value.code}: ${value.message}`
  if (value instanceof Error) return `${value.name}: ${value.message}`
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 197)}...` : text
}

/** Calls and expects an answer equal to `expected`. */
async function expectAnswer(plugin: PluginHandle, method: string, args: unknown[], expected: unknown): Promise<void> {
  const sent = `${method}(${args.map(show).join(', ')})`
  let got: unknown
  try {
    got = await plugin.call(method, args)
  } catch (error) {
    throw new CheckFailure(`${sent} failed instead of answering ${show(expected)}`, sent, show(error))
  }
  if (!isDeepStrictEqual(got, expected)) throw new CheckFailure(`${sent} answered ${show(got)}, expected ${show(expected)}`, sent, show(got))
}

/** Calls and expects a PolyplugError with `code`; returns it. */
async function expectError(call: Promise<unknown>, sent: string, code: string): Promise<PolyplugError> {
  let answer: unknown
  try {
    answer = await call
  } catch (error) {
    if (error instanceof PolyplugError && error.code === code) return error
    throw new CheckFailure(`${sent} should fail with ${code}; it failed with ${show(error)}`, sent, show(error))
  }
  throw new CheckFailure(`${sent} should fail with ${code}; it answered ${show(answer)}`, sent, show(answer))
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new CheckFailure(`${what} did not happen within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

// An inline wasm or python plugin runs synchronously on the host thread (its kind module says so):
// nothing can interrupt it and it cannot wait for the asynchronous host API (docs/wasm-abi.md,
// docs/python.md); in a worker the same module does both.
const blocksHost = (m: Manifest) =>
  blocksHostThread(m) ? `an inline ${m.kind} plugin runs synchronously on the host thread; place it in a worker` : undefined

// Inline, or a kind whose crash ends its process (a native library) in a worker: the crash is the host's.
const notIsolated = (m: Manifest) =>
  !crashContained(m) ? `placement "${m.placement}" shares the host's process: a crash there is not contained` : undefined

// What a plugin that writes text where frames go leaves behind: a framing error on its channel
// (the stream's bytes are not a frame), or the host's report of stray output.
const STRAY = /FRAME_INVALID|FRAME_TOO_LARGE|stray output|text to stdout/i
const strayOutput = (log: readonly LogEntry[]) => log.filter((e) => STRAY.test(e.message) && e.level !== 'debug')

export const protocolChecks: readonly Check[] = [
  {
    name: 'starts: handshake (protocol version, token) and activate within the start timeout',
    run: async ({ plugin }) => {
      try {
        await plugin.activate()
      } catch (error) {
        throw new CheckFailure(`the plugin did not start: ${show(error)}`, 'activate', show(error))
      }
    },
  },
  {
    name: 'an unknown method fails with METHOD_NOT_FOUND (JSON-RPC -32601), and the plugin keeps serving',
    run: async ({ plugin }) => {
      const method = 'polyplug.check.no-such-method'
      await expectError(plugin.call(method, []), `${method}()`, 'METHOD_NOT_FOUND')
      await plugin.call(Reserved.ping).catch((error: unknown) => {
        throw new CheckFailure(`after the unknown method, ${Reserved.ping} failed: ${show(error)}`, Reserved.ping, show(error))
      })
    },
  },
  {
    name: '50 concurrent calls each get their own answer',
    run: async ({ plugin }) => {
      const answers = await Promise.allSettled(Array.from({ length: 50 }, () => plugin.call(Reserved.ping)))
      const failed = answers.filter((a) => a.status === 'rejected')
      if (failed.length > 0) throw new CheckFailure(`${failed.length} of 50 concurrent $/ping calls failed`, '50 × $/ping', show((failed[0] as PromiseRejectedResult).reason))
    },
  },
]

export const conformanceChecks: readonly Check[] = [
  {
    name: 'echo returns its argument, whatever JSON it is',
    needs: ['echo'],
    run: async ({ plugin }) => {
      for (const value of ['hi', 42, true, null, [1, 'a', { b: [] }], { nested: { x: 1.5, s: 'é✓' } }]) await expectAnswer(plugin, 'echo', [value], value)
    },
  },
  {
    name: 'add adds',
    needs: ['add'],
    run: async ({ plugin }) => {
      await expectAnswer(plugin, 'add', [2, 40], 42)
      await expectAnswer(plugin, 'add', [-1.5, 0.5], -1)
    },
  },
  {
    name: 'fail(code) rejects with a typed error carrying that code, the plugin and the method',
    needs: ['fail'],
    run: async ({ plugin }) => {
      const error = await expectError(plugin.call('fail', ['E_CONFORMANCE']), 'fail("E_CONFORMANCE")', 'E_CONFORMANCE')
      if (error.plugin !== plugin.id || error.method !== 'fail') {
        throw new CheckFailure(`the error names plugin ${show(error.plugin)} and method ${show(error.method)}`, 'fail("E_CONFORMANCE")', { plugin: error.plugin, method: error.method })
      }
    },
  },
  {
    name: 'sleep honours cancellation: the caller is released at once and the plugin sees the cancel',
    needs: ['sleep', 'cancelCount'],
    notFor: blocksHost,
    run: async ({ plugin }) => {
      const before = await plugin.call<number>('cancelCount')
      const controller = new AbortController()
      const call = plugin.call('sleep', [5000], { signal: controller.signal })
      let released = false
      call.then(
        () => (released = true),
        () => (released = true),
      )
      // A call sent after the sleep comes back after the plugin has read the sleep (on a byte
      // stream, in order): the cancel then finds the sleep in flight, with no clock to guess it.
      await plugin.call('cancelCount')
      controller.abort()
      // Released by the abort itself, not by the plugin's answer: before a call sent after it returns.
      await plugin.call('cancelCount')
      if (!released) throw new CheckFailure('the cancelled call was still pending after a later call came back: the caller waited for the plugin', 'sleep(5000), then its signal aborted')
      await expectError(call, 'sleep(5000), cancelled while in flight', 'RPC_CANCELLED')
      // A generous ceiling (a loaded machine), never a goal: a plugin that ignores the cancel never counts it.
      await until(async () => (await plugin.call<number>('cancelCount')) === before + 1, 10_000, 'the plugin counting the cancellation (cancelCount)')
      await expectAnswer(plugin, 'sleep', [10], 10)
    },
  },
  {
    name: 'a call past its deadline ends with RPC_TIMEOUT and the plugin keeps serving',
    needs: ['sleep', 'add'],
    notFor: blocksHost,
    run: async ({ plugin }) => {
      await expectError(plugin.call('sleep', [3000], { timeout: 50 }), 'sleep(3000) with a 50 ms deadline', 'RPC_TIMEOUT')
      await expectAnswer(plugin, 'add', [1, 1], 2)
    },
  },
  {
    name: 'bytes(n) returns n bytes intact',
    needs: ['bytes'],
    run: async ({ plugin }) => {
      for (const n of [0, 1, 255, 70_000]) {
        const data = await plugin.call('bytes', [n])
        if (!(data instanceof Uint8Array)) throw new CheckFailure(`bytes(${n}) answered ${show(data)}, not bytes`, `bytes(${n})`, show(data))
        if (data.byteLength !== n) throw new CheckFailure(`bytes(${n}) answered ${data.byteLength} bytes`, `bytes(${n})`, data.byteLength)
        for (let i = 0; i < n; i += 997) if (data[i] !== (i & 255)) throw new CheckFailure(`bytes(${n}): byte ${i} is ${data[i]}, expected ${i & 255}`)
      }
    },
  },
  {
    name: 'callHost reaches the host API and returns its answer',
    needs: ['callHost'],
    notFor: blocksHost,
    run: async ({ plugin }) => {
      await expectAnswer(plugin, 'callHost', ['host/echo', [{ from: plugin.id }]], { from: plugin.id })
      const info = await plugin.call<{ name?: string; plugin?: string }>('callHost', ['host/info', []])
      if (info?.name !== 'polyplug' || info.plugin !== plugin.id) throw new CheckFailure(`host/info answered ${show(info)}`, 'callHost("host/info", [])', show(info))
      await expectError(plugin.call('callHost', ['host/does-not-exist', []]), 'callHost("host/does-not-exist", [])', 'METHOD_NOT_FOUND')
    },
  },
  {
    name: 'many concurrent calls all get their own answer',
    needs: ['add'],
    run: async ({ plugin }) => {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => plugin.call('add', [i, i])))
      const wrong = results.findIndex((r, i) => r !== 2 * i)
      if (wrong >= 0) throw new CheckFailure(`add(${wrong}, ${wrong}) answered ${show(results[wrong])} among 100 concurrent calls`)
    },
  },
  {
    name: 'crash() ends in-flight calls with PLUGIN_CRASHED; the next call starts it again',
    needs: ['crash', 'sleep', 'echo'],
    notFor: notIsolated,
    run: async ({ plugin }) => {
      const inflight = plugin.call('sleep', [5000])
      inflight.catch(() => {})
      await expectError(plugin.call('crash'), 'crash()', 'PLUGIN_CRASHED')
      await expectError(inflight, 'sleep(5000) in flight during the crash', 'PLUGIN_CRASHED')
      await expectAnswer(plugin, 'echo', ['back'], 'back')
    },
  },
]

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) yield i
}

async function* chunks(count: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) yield new Uint8Array(size).fill(i)
}

/** Reads a whole stream answer, or fails the check naming what was sent. */
async function collect(plugin: PluginHandle, sent: string, method: string, args: unknown[]): Promise<unknown[]> {
  const seen: unknown[] = []
  try {
    for await (const item of await plugin.call<AsyncIterable<unknown>>(method, args)) seen.push(item)
  } catch (error) {
    throw new CheckFailure(`${sent} failed after ${show(seen)}: ${show(error)}`, sent, show(error))
  }
  return seen
}

/**
 * Stream checks (docs/protocol.md §7.1), for plugins whose `$/hello` answer lists the `streams`
 * capability; the others get a skip saying so.
 */
export const streamChecks: readonly Check[] = [
  {
    name: 'streams: count(n) yields 0..n-1 to for await',
    needs: ['count'],
    capability: 'streams',
    run: async ({ plugin }) => {
      const five = await collect(plugin, 'count(5)', 'count', [5])
      if (!isDeepStrictEqual(five, [0, 1, 2, 3, 4])) throw new CheckFailure(`count(5) yielded ${show(five)}, expected [0,1,2,3,4]`, 'count(5)', five)
      const none = await collect(plugin, 'count(0)', 'count', [0])
      if (none.length > 0) throw new CheckFailure(`count(0) yielded ${show(none)}`, 'count(0)', none)
    },
  },
  {
    name: 'streams: sum(stream) consumes a stream argument of numbers or byte chunks',
    needs: ['sum'],
    capability: 'streams',
    run: async ({ plugin }) => {
      await expectAnswer(plugin, 'sum', [numbers(100)], 5050)
      await expectAnswer(plugin, 'sum', [chunks(3, 70_000)], 210_000)
    },
  },
  {
    name: 'streams: breaking out of the loop cancels the producer',
    needs: ['count', 'cancelCount'],
    capability: 'streams',
    run: async ({ plugin }) => {
      const before = await plugin.call<number>('cancelCount')
      for await (const n of await plugin.call<AsyncIterable<number>>('count', [1_000_000])) if (n === 2) break
      await until(async () => (await plugin.call<number>('cancelCount')) === before + 1, 10_000, 'the producer seeing the cancel after break (cancelCount)')
    },
  },
  {
    name: 'streams: a producer error ends the loop with the typed error',
    needs: ['count'],
    capability: 'streams',
    run: async ({ plugin }) => {
      const seen: number[] = []
      const loop = (async () => {
        for await (const n of await plugin.call<AsyncIterable<number>>('count', [10, 3])) seen.push(n)
      })()
      const error = await expectError(loop, 'count(10, 3) (fails after 3 items)', 'E_STREAM')
      if (!isDeepStrictEqual(seen, [0, 1, 2])) throw new CheckFailure(`before the error the loop saw ${show(seen)}, expected [0,1,2]`, 'count(10, 3)', seen)
      if (error.plugin !== plugin.id || error.method !== 'count') {
        throw new CheckFailure(`the error names plugin ${show(error.plugin)} and method ${show(error.method)}`, 'count(10, 3)', { plugin: error.plugin, method: error.method })
      }
    },
  },
  {
    name: 'streams: a slow consumer holds the producer to its window while other calls go on',
    needs: ['count', 'produced', 'add'],
    capability: 'streams',
    run: async ({ plugin }) => {
      const window = 4
      const before = await plugin.call<number>('produced')
      const stream = await plugin.call<AsyncIterableIterator<number>>('count', [1_000_000], { window })
      try {
        const first = await stream.next()
        if (first.value !== 0) throw new CheckFailure(`count(1000000) first yielded ${show(first)}`, 'count(1000000)', first)
        // Other calls on the same channel are answered while the stream waits for its consumer.
        for (let i = 0; i < 20; i++) await expectAnswer(plugin, 'add', [i, 1], i + 1)
        const ran = (await plugin.call<number>('produced')) - before
        if (ran < 1 || ran > window + 2) throw new CheckFailure(`the producer ran ${ran} items ahead with a window of ${window}`, `count(1000000) with window ${window}`, ran)
      } finally {
        await stream.return?.()
      }
    },
  },
  {
    name: 'streams: the plugin dying ends an open stream with PLUGIN_CRASHED',
    needs: ['count', 'crash', 'echo'],
    capability: 'streams',
    notFor: notIsolated,
    run: async ({ plugin }) => {
      const stream = await plugin.call<AsyncIterableIterator<number>>('count', [1e9], { window: 2 })
      await stream.next()
      await expectError(plugin.call('crash'), 'crash()', 'PLUGIN_CRASHED')
      const drained = (async () => {
        for (;;) if ((await stream.next()).done) return
      })()
      await expectError(drained, 'reading the open count() stream after crash()', 'PLUGIN_CRASHED')
      await expectAnswer(plugin, 'echo', ['back'], 'back')
    },
  },
]

/** The last checks of every run: nothing strayed onto stdout, and the plugin stops when asked. */
export const strayOutputCheck: Check = {
  name: 'nothing but frames on stdout (logs go to $/log or stderr)',
  run: async ({ log, plugin }) => {
    const last = plugin.info().lastError
    const stray = [...strayOutput(log), ...(last && STRAY.test(`${last.code} ${last.message}`) ? [{ message: `${last.code}: ${last.message}` }] : [])]
    if (stray.length > 0) throw new CheckFailure(`the plugin wrote outside the protocol: ${stray[0]!.message}`, undefined, stray.map((e) => e.message))
  },
}

export const stopCheck: Check = {
  name: 'stops when asked ($/shutdown), leaving no process behind',
  run: async ({ plugin }) => {
    const pid = plugin.pid()
    await plugin.stop()
    if (pid !== undefined) await until(async () => !alive(pid), 10_000, `process ${pid} exiting after stop`)
  },
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
