/** The restart policy on its own: backoff doubles per crash in the window, the breaker opens, reset closes it. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RestartPolicy } from '../src/host/supervisor.js'
import { PolyplugError } from '../src/rpc/errors.js'

const crash = new PolyplugError('PLUGIN_CRASHED', 'exited (code 1)')

describe('RestartPolicy', () => {
  it('waits nothing before the first start, then doubles the backoff per crash, capped', () => {
    const policy = new RestartPolicy('p', { baseDelayMs: 100, maxDelayMs: 350, maxCrashes: 10 })
    assert.equal(policy.delayBeforeStart(0), 0)
    policy.recordCrash(crash, 1000)
    assert.equal(policy.delayBeforeStart(1000), 100)
    assert.equal(policy.delayBeforeStart(1060), 40)
    policy.recordCrash(crash, 2000)
    assert.equal(policy.delayBeforeStart(2000), 200)
    policy.recordCrash(crash, 3000)
    assert.equal(policy.delayBeforeStart(3000), 350)
  })

  it('opens the circuit after more than maxCrashes within the window, and only then', () => {
    const policy = new RestartPolicy('p', { maxCrashes: 2, windowMs: 1000 })
    policy.recordCrash(crash, 0)
    policy.recordCrash(crash, 500)
    policy.recordCrash(crash, 1200) // the first crash has left the window
    assert.equal(policy.quarantined, undefined)
    policy.recordCrash(crash, 1300)
    const open = policy.quarantined as PolyplugError | undefined
    assert.equal(open?.code, 'PLUGIN_QUARANTINED')
    assert.equal(open?.plugin, 'p')
    assert.equal((open?.data as { lastCode: string }).lastCode, 'PLUGIN_CRASHED')
  })

  it('reset closes the circuit and forgets the crashes', () => {
    const policy = new RestartPolicy('p', { maxCrashes: 0 })
    policy.recordCrash(crash)
    assert.ok(policy.quarantined)
    policy.reset()
    assert.equal(policy.quarantined, undefined)
    assert.equal(policy.recentCrashes, 0)
    assert.equal(policy.delayBeforeStart(), 0)
  })
})
