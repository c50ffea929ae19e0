/**
 * The floor the js inline rows are measured against (bench/inline-floor.ts): the inline call's
 * contract by hand. It must keep doing what that contract asks — or the floor would be measured
 * cheaper than any call that keeps the contract.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inlineFloor } from '../bench/inline-floor.js'
import { PolyplugError } from '../src/rpc/errors.js'

describe('the hand-written inline floor', () => {
  const floor = inlineFloor('floor-plugin', {
    echo: (value: unknown) => value,
    whoami: (_value: unknown, context: { method: string; plugin: string }) => `${context.plugin}/${context.method}`,
    fail: () => {
      throw new Error('boom')
    },
  })

  it('answers with a promise of the method’s value, handing the method a context that names the call', async () => {
    const answer = floor.call('echo', [7])
    assert.ok(answer instanceof Promise)
    assert.equal(await answer, 7)
    assert.equal(await floor.call('whoami', [undefined]), 'floor-plugin/whoami')
  })

  it('turns a throw and an unknown method into typed errors naming the plugin and method, and counts every call', async () => {
    const before = { calls: floor.calls, errors: floor.errors }
    await assert.rejects(floor.call('fail', []), (e: unknown) => e instanceof PolyplugError && e.plugin === 'floor-plugin' && e.method === 'fail' && /boom/.test(e.message))
    await assert.rejects(floor.call('nope', []), (e: unknown) => e instanceof PolyplugError && e.code === 'METHOD_NOT_FOUND' && e.plugin === 'floor-plugin')
    await floor.call('echo', [1])
    assert.deepEqual({ calls: floor.calls - before.calls, errors: floor.errors - before.errors }, { calls: 3, errors: 2 })
  })
})
