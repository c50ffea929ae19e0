/**
 * The inline fast path's deadlines (src/sdk/direct.ts): one timer per plugin serves every running
 * call, so each call must still end at its own deadline, a call that ends early must not disturb
 * the others, and an idle plugin must not hold the process open until a long-gone deadline.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { createMemoryPair } from '../src/channels/memory.js'
import { createDirectInvoker, type DirectInvoke } from '../src/sdk/direct.js'
import { definePlugin, type MethodContext } from '../src/sdk/define.js'
import { servePlugin } from '../src/sdk/serve.js'
import { rejectsWithCode } from './support/assert-code.js'
import { within } from './support/wait.js'

/** Methods that settle when the test says so, and report whether their signal was aborted. */
function invoker() {
  const gates = new Map<string, () => void>()
  const aborted: string[] = []
  const plugin = definePlugin({
    methods: {
      wait: (name: string, ctx: MethodContext) =>
        new Promise<string>((resolve) => {
          gates.set(name, () => resolve(name))
          ctx.signal.addEventListener('abort', () => aborted.push(name), { once: true })
        }),
    },
  })
  let invoke: DirectInvoke | undefined
  const [, pluginSide] = createMemoryPair()
  servePlugin(pluginSide, plugin, { id: 'deadlines', exposeDirect: (methods, context) => (invoke = createDirectInvoker(methods, context)) })
  assert.ok(invoke, 'servePlugin exposes the direct invoker')
  return { invoke: invoke, open: (name: string) => gates.get(name)?.(), aborted }
}

describe('inline calls: deadlines served by one timer per plugin', () => {
  it('each running call ends at its own deadline, the earliest first, with its signal aborted', async () => {
    const { invoke, aborted } = invoker()
    const order: string[] = []
    const late = rejectsWithCode(invoke('wait', ['late'], {}, 400).finally(() => order.push('late')), 'RPC_TIMEOUT')
    const early = rejectsWithCode(invoke('wait', ['early'], {}, 40).finally(() => order.push('early')), 'RPC_TIMEOUT')
    const [lateError, earlyError] = await within(Promise.all([late, early]), 'both calls ended by their deadlines')
    assert.deepEqual(order, ['early', 'late'])
    assert.match(earlyError.message, /40 ms/)
    assert.match(lateError.message, /400 ms/)
    assert.equal(earlyError.plugin, 'deadlines')
    assert.deepEqual(aborted.sort(), ['early', 'late'])
  })

  it('a call that answers before its deadline leaves the other running calls their own deadlines', async () => {
    const { invoke, open } = invoker()
    const first = invoke('wait', ['first'], {}, 60_000)
    const second = rejectsWithCode(invoke('wait', ['second'], {}, 60), 'RPC_TIMEOUT')
    open('first')
    assert.equal(await first, 'first')
    await within(second, 'the second call ended by its own deadline after the first answered')
    // A call made after the others ended gets a deadline of its own, not the ones already swept.
    const third = rejectsWithCode(invoke('wait', ['third'], {}, 30), 'RPC_TIMEOUT')
    await within(third, 'a later call ended by its deadline')
  })

  it('a cancelled call ends with RPC_CANCELLED and the timer keeps serving the rest', async () => {
    const { invoke, open } = invoker()
    const controller = new AbortController()
    const cancelled = rejectsWithCode(invoke('wait', ['cancelled'], { signal: controller.signal }, 60_000), 'RPC_CANCELLED')
    const kept = invoke('wait', ['kept'], {}, 60_000)
    controller.abort()
    await cancelled
    open('kept')
    assert.equal(await kept, 'kept')
  })

  it('an idle plugin does not keep the process alive until the deadline of a call that already answered', async () => {
    // A child makes one call with a one-hour deadline, gets its answer, and must then exit on its own.
    const child = spawn(process.execPath, [fileURLToPath(new URL('./support/direct-idle-child.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), 'the child exited after its only call answered')
    assert.equal(code, 0)
    assert.equal(out.trim(), 'answered')
  })
})
