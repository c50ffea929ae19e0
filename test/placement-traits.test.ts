/**
 * What the host, the checks and the validator ask instead of testing placement or kind names:
 * a placement's traits (src/registry/placements.ts) and a kind's own capabilities. A kind an
 * application registers is answered the same way as a built-in one.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { blocksHostThread, crashContained, placementsWhere, placementTraits, registerKind } from '../src/registry/index.js'

describe('placement traits', () => {
  it('a crash is contained where the placement shares nothing with the host, or in a worker for a kind whose crash ends only its thread', () => {
    assert.equal(crashContained({ kind: 'js', placement: 'inline' }), false)
    assert.equal(crashContained({ kind: 'js', placement: 'worker' }), true)
    assert.equal(crashContained({ kind: 'native', placement: 'worker' }), false, 'a segfault ends the whole process')
    assert.equal(crashContained({ kind: 'native', placement: 'process' }), true)
    assert.equal(crashContained({ kind: 'exec', placement: 'remote' }), true)
  })

  it('a kind the application registers is asked, not named', () => {
    registerKind({ name: 'test-crashy', placements: ['inline', 'worker', 'process'], defaultPlacement: 'process', crashesProcess: true, inlineBlocksHost: true })
    assert.equal(crashContained({ kind: 'test-crashy', placement: 'worker' }), false)
    assert.equal(crashContained({ kind: 'test-crashy', placement: 'process' }), true)
    assert.equal(blocksHostThread({ kind: 'test-crashy', placement: 'inline' }), true)
    assert.equal(blocksHostThread({ kind: 'test-crashy', placement: 'worker' }), false)
  })

  it('only inline shares the host thread; only remote is dialed', () => {
    assert.deepEqual(placementsWhere((t) => t.shares === 'thread'), ['inline'])
    assert.deepEqual(placementsWhere((t) => t.dialed), ['remote'])
    assert.equal(placementTraits('worker').shares, 'process')
  })

  it('wasm and python inline block the host thread; js inline does not', () => {
    assert.equal(blocksHostThread({ kind: 'wasm', placement: 'inline' }), true)
    assert.equal(blocksHostThread({ kind: 'python', placement: 'inline' }), true)
    assert.equal(blocksHostThread({ kind: 'js', placement: 'inline' }), false)
  })
})
