/**
 * A method that answers from a callback (a native call on the libuv pool) can settle its caller's
 * own promise through the context instead of returning a promise of its own
 * (src/sdk/answer-later.ts): the caller gets the answer or a typed error naming the plugin and
 * method, the call's deadline and cancellation still end it first (a late answer is dropped), the
 * call's end is told once, and a context that has no answer to give says so.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { answerLater, type LaterAnswer } from '../src/sdk/answer-later.js'
import type { PluginContext } from '../src/sdk/define.js'
import { createDirectInvoker, type DirectCallEnd } from '../src/sdk/direct.js'
import type { PolyplugError } from '../src/rpc/errors.js'
import { rejectsWithCode } from './support/assert-code.js'

/** An inline plugin whose `later` method takes its answer and keeps it for the test; `thenThrow` takes it and throws. */
function answering() {
  const taken: (LaterAnswer | undefined)[] = []
  const methods = {
    later: (...args: unknown[]) => {
      taken.push(answerLater(args.at(-1) as object))
      return 'not the answer'
    },
    thenThrow: (...args: unknown[]) => {
      taken.push(answerLater(args.at(-1) as object))
      throw new Error('thrown after taking the answer')
    },
    /** A method that reads `this`: called with and without a context, it sees its methods object. */
    self(this: { tag: string }, ...args: unknown[]) {
      return args.length > 1 ? `${this.tag} with context` : this.tag
    },
    selfAlone(this: { tag: string }, value: unknown) {
      return `${this.tag} ${String(value)}`
    },
    tag: 'methods',
  }
  const invoke = createDirectInvoker(methods, { id: 'answering' } as PluginContext)
  const answer = () => {
    const last = taken.at(-1)
    assert.ok(last, 'the method took its answer')
    return last
  }
  return { invoke, answer }
}

/** A call's end that records what it was told. */
function ends(): DirectCallEnd & { told: (string | undefined)[] } {
  return {
    told: [],
    ended(error?: PolyplugError) {
      this.told.push(error?.code)
    },
  }
}

describe('a method that answers later through its context', () => {
  it('settles the caller with its answer; what it returned is not the answer', async () => {
    const { invoke, answer } = answering()
    const end = ends()
    const call = invoke('later', [1], {}, 10_000, end)
    assert.deepEqual(end.told, [], 'not ended while the answer is awaited')
    answer().resolve({ echoed: 1 })
    assert.deepEqual(await call, { echoed: 1 })
    assert.deepEqual(end.told, [undefined])
  })

  it('a rejected answer is typed and names the plugin and method', async () => {
    const { invoke, answer } = answering()
    const end = ends()
    const call = invoke('later', [], {}, 10_000, end)
    answer().reject(new Error('pool call failed'))
    const error = await rejectsWithCode(call, 'INTERNAL_ERROR')
    assert.equal(error.plugin, 'answering')
    assert.equal(error.method, 'later')
    assert.match(error.message, /pool call failed/)
    assert.deepEqual(end.told, ['INTERNAL_ERROR'])
  })

  it('a deadline ends the call first: RPC_TIMEOUT, and the late answer is dropped', async () => {
    const { invoke, answer } = answering()
    const end = ends()
    await rejectsWithCode(invoke('later', [], {}, 20, end), 'RPC_TIMEOUT')
    answer().resolve('late')
    answer().reject(new Error('later still'))
    assert.deepEqual(end.told, ['RPC_TIMEOUT'], 'ended once, by the deadline')
  })

  it("the caller's abort ends the call first: RPC_CANCELLED", async () => {
    const { invoke, answer } = answering()
    const end = ends()
    const stop = new AbortController()
    const call = invoke('later', [], { signal: stop.signal }, 0, end)
    stop.abort()
    await rejectsWithCode(call, 'RPC_CANCELLED')
    answer().resolve('late')
    assert.deepEqual(end.told, ['RPC_CANCELLED'])
  })

  it('a second answer is dropped', async () => {
    const { invoke, answer } = answering()
    const call = invoke('later', [], {}, 10_000)
    answer().resolve('first')
    answer().resolve('second')
    assert.equal(await call, 'first')
  })

  it('a method that took its answer and then threw fails with the throw, typed', async () => {
    const { invoke } = answering()
    const end = ends()
    const error = await rejectsWithCode(invoke('thenThrow', [], {}, 10_000, end), 'INTERNAL_ERROR')
    assert.equal(error.method, 'thenThrow')
    assert.match(error.message, /thrown after taking the answer/)
    assert.deepEqual(end.told, ['INTERNAL_ERROR'])
  })

  it('a context without an answer to give says so (the method returns a promise of its own)', () => {
    assert.equal(answerLater({ signal: new AbortController().signal, method: 'm' }), undefined)
  })

  it("a method is called with its plugin's methods object as `this`, with a context or without", async () => {
    const { invoke } = answering()
    assert.equal(await invoke('self', [1], {}, 0), 'methods with context')
    assert.equal(await invoke('selfAlone', [1], {}, 0), 'methods 1')
  })
})
