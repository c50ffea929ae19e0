/**
 * The running calls' list (src/sdk/slot-list.ts): each item keeps its place, a removal moves the
 * last item into it, and what a walk sees does not change under it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SlotList } from '../src/sdk/slot-list.js'

const item = (name: string) => ({ name, slot: -1 })
const names = (list: SlotList<{ name: string; slot: number }>) => list.snapshot().map((i) => i.name).sort()

describe('SlotList', () => {
  it('holds what was added and not removed, in any order of removal', () => {
    const list = new SlotList<{ name: string; slot: number }>()
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item)
    for (const i of [a!, b!, c!, d!]) list.add(i)
    list.delete(b!)
    assert.deepEqual(names(list), ['a', 'c', 'd'])
    list.delete(a!)
    list.delete(d!)
    assert.deepEqual(names(list), ['c'])
    assert.equal(list.size, 1)
    list.delete(c!)
    assert.equal(list.size, 0)
    assert.equal(c!.slot, -1)
  })

  it('a second removal, or the removal of an item it does not hold, changes nothing', () => {
    const list = new SlotList<{ name: string; slot: number }>()
    const other = new SlotList<{ name: string; slot: number }>()
    const [a, b, x] = ['a', 'b', 'x'].map(item)
    list.add(a!)
    list.add(b!)
    other.add(x!) // x's slot is 0, where `list` holds a
    list.delete(x!)
    list.delete(a!)
    list.delete(a!)
    assert.deepEqual(names(list), ['b'])
    assert.deepEqual(names(other), ['x'])
  })

  it('a snapshot is its own array: removing while walking it reaches every item', () => {
    const list = new SlotList<{ name: string; slot: number }>()
    for (const n of ['a', 'b', 'c']) list.add(item(n))
    const seen: string[] = []
    for (const i of list.snapshot()) {
      seen.push(i.name)
      list.delete(i)
    }
    assert.deepEqual(seen.sort(), ['a', 'b', 'c'])
    assert.equal(list.size, 0)
  })
})
