import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WaitingById } from '../src/rpc/waiting-by-id.js'

describe('what waits for an answer, by request id', () => {
  it('finds, replaces and forgets each id, in the slot or in the map, and lists every id once', () => {
    const waiting = new WaitingById<string>()
    assert.equal(waiting.size, 0)
    assert.equal(waiting.get(1), undefined)
    waiting.set(1, 'a') // the slot
    waiting.set('2', 'b') // the map
    waiting.set(3, 'c')
    assert.equal(waiting.size, 3)
    assert.deepEqual([waiting.get(1), waiting.get('2'), waiting.get(3), waiting.get(2)], ['a', 'b', 'c', undefined])
    waiting.set(1, 'a2') // replaced in the slot
    waiting.set(3, 'c2') // replaced in the map
    assert.deepEqual(waiting.ids(), [1, '2', 3])
    assert.deepEqual([waiting.get(1), waiting.get(3)], ['a2', 'c2'])
    waiting.delete(1) // the slot frees
    assert.equal(waiting.get(1), undefined)
    waiting.set(3, 'c3') // an id in the map stays there, not also in the free slot
    assert.deepEqual(waiting.ids(), ['2', 3])
    assert.equal(waiting.get(3), 'c3')
    waiting.delete(3)
    assert.equal(waiting.get(3), undefined)
    assert.deepEqual(waiting.ids(), ['2'])
    waiting.set(4, 'd') // the free slot
    assert.deepEqual(waiting.ids(), [4, '2'])
    waiting.delete(99) // nothing waits under it
    assert.equal(waiting.size, 2)
    waiting.clear()
    assert.equal(waiting.size, 0)
    assert.deepEqual(waiting.ids(), [])
  })
})
