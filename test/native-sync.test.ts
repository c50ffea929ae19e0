/**
 * Which native calls run on a worker's own thread (src/kinds/native-sync.ts): a method's calls
 * start on the libuv pool and move to the worker's thread once they have proved short; a long call
 * there sends the method back, and it must prove itself for longer before it returns.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CANCEL_SLOTS, CANCEL_SLOTS_BYTES, CANCEL_SLOTS_OFFSET, CancelSlots } from '../src/kinds/cancel-slots.js'
import { PoolLine, SyncCalls, syncMode, type NativeBridge, type SyncMode } from '../src/kinds/native-sync.js'
import type { MethodContext } from '../src/sdk/define.js'

const context = { signal: new AbortController().signal, method: 'm', progress() {} } as unknown as MethodContext

function calls(mode: SyncMode = 'proven', request: number | null = 7) {
  const buffer = new SharedArrayBuffer(CANCEL_SLOTS_OFFSET + CANCEL_SLOTS_BYTES)
  const bridge: NativeBridge = {
    callHost: () => ({ ok: true, value: null }),
    wait: () => false,
    exit: () => process.exit(1),
    currentRequest: () => request ?? undefined,
    slots: new CancelSlots(buffer),
  }
  return { sync: new SyncCalls(bridge, 'p', mode), host: new CancelSlots(buffer) }
}

let nextId = 100

/** Runs one call (request `id`) of `method` here for `ms`, returning its flag's value when it ended. */
function runHere(sync: SyncCalls, method: string, ms: number, during?: () => void, id: number | string = nextId++): number {
  const depth = sync.enter(id, context, method)
  during?.()
  const flag = sync.flag(depth)[0] as number
  sync.leave(depth, method, ms)
  return flag
}

describe('native calls on the worker thread: which run there', () => {
  it('a method runs there after 8 pool calls in a row each answered within 2 ms', () => {
    const { sync } = calls()
    for (let i = 0; i < 7; i++) sync.pooled('echo', 0.1)
    assert.equal(sync.runHere('echo'), undefined)
    sync.pooled('echo', 0.1)
    assert.equal(sync.runHere('echo'), 7)
    assert.equal(sync.runHere('other'), undefined, 'each method proves itself')
  })

  it('a slow pool call starts the proof again', () => {
    const { sync } = calls()
    for (let i = 0; i < 7; i++) sync.pooled('m', 0.1)
    sync.pooled('m', 50)
    sync.pooled('m', 0.1)
    assert.equal(sync.runHere('m'), undefined)
  })

  it('a call there longer than 10 ms sends the method back; it must then prove itself twice as long', () => {
    const { sync } = calls()
    for (let i = 0; i < 8; i++) sync.pooled('m', 0.1)
    runHere(sync, 'm', 5)
    assert.equal(sync.runHere('m'), 7, '5 ms is not long')
    runHere(sync, 'm', 500)
    assert.equal(sync.runHere('m'), undefined)
    for (let i = 0; i < 15; i++) sync.pooled('m', 0.1)
    assert.equal(sync.runHere('m'), undefined)
    sync.pooled('m', 0.1)
    assert.equal(sync.runHere('m'), 7)
  })

  it('a request arriving while a call there waits for the host runs there too, whatever its method', () => {
    const { sync } = calls('never')
    const depth = sync.enter(7, context, 'outer')
    assert.equal(sync.runHere('unproved'), 7)
    sync.leave(depth, 'outer', 0)
    assert.equal(sync.runHere('unproved'), undefined)
  })

  it('a call not handed over by a message (no request id) stays on the pool', () => {
    const { sync } = calls('always', null)
    assert.equal(sync.runHere('m'), undefined)
  })

  it('POLYPLUG_NATIVE_SYNC: always and never; anything else is proven', () => {
    assert.equal(syncMode(undefined, 'always'), 'always')
    assert.equal(syncMode(undefined, 'never'), 'never')
    assert.equal(syncMode(undefined, undefined), 'proven')
    assert.equal(syncMode(undefined, 'sometimes'), 'proven')
  })

  it("the manifest's native.workerCalls: pool, thread or proven; the host's POLYPLUG_NATIVE_SYNC overrides it", () => {
    assert.equal(syncMode('pool', undefined), 'never')
    assert.equal(syncMode('thread', undefined), 'always')
    assert.equal(syncMode('proven', undefined), 'proven')
    assert.equal(syncMode('pool', 'always'), 'always')
    assert.equal(syncMode('thread', 'never'), 'never')
    assert.equal(syncMode('thread', 'sometimes'), 'always')
  })
})

describe('pool calls are timed without their wait in line', () => {
  /** `count` calls made at once on `threads` pool threads, each running `ms`, ending in order: how long each was timed. */
  function queued(count: number, threads: number, ms: number): number[] {
    const line = new PoolLine(threads)
    const places = Array.from({ length: count }, () => line.join())
    return places.map((place) => line.left(place, 0, (Math.floor(place / threads) + 1) * ms))
  }

  it('256 short calls made at once are each timed as the 0.05 ms they ran, not as their wait (up to 3.2 ms)', () => {
    const timed = queued(256, 4, 0.05)
    assert.ok(timed.every((ms) => Math.abs(ms - 0.05) < 1e-9), `timed ${timed.slice(-4).join(', ')}`)
  })

  it('so a method called 256 at a time proves itself short on the pool and moves to the worker thread', () => {
    const { sync } = calls()
    for (const ms of queued(256, 4, 0.05).slice(0, 8)) sync.pooled('echo', ms)
    assert.equal(sync.runHere('echo'), 7)
  })

  it('calls that ran side by side on the threads are each timed in full', () => {
    assert.deepEqual(queued(4, 4, 50), [50, 50, 50, 50])
  })

  it('a long call behind short ones is timed long; a short one behind a long one short', () => {
    const line = new PoolLine(1)
    const [long, short, second] = [line.join(), line.join(), line.join()]
    assert.equal(line.left(long, 0, 40), 40)
    assert.equal(line.left(short, 0, 40.5), 0.5)
    assert.equal(line.left(second, 0, 70.5), 30)
  })

  it('a call made after the one ahead of it had ended is timed from when it was made', () => {
    const line = new PoolLine(1)
    const first = line.join()
    assert.equal(line.left(first, 0, 1), 1)
    assert.equal(line.left(line.join(), 5, 6), 1)
  })
})

describe('cancel slots: the host raises the flag of the call it means, and only that one', () => {
  it('a cancel raises the running call named by its id', () => {
    const { sync, host } = calls()
    assert.equal(runHere(sync, 'm', 0, () => host.raise(1), 1), 1)
    assert.equal(runHere(sync, 'm', 0, () => host.raise(3), 2), 0, 'a cancel of another id leaves it alone')
    assert.equal(runHere(sync, 'm', 0, () => host.raise('a'), 'a'), 1, 'string ids too')
  })

  it('a cancel posted before the call started still reaches it', () => {
    const { sync, host } = calls()
    host.raise(5)
    assert.equal(runHere(sync, 'm', 0, undefined, 5), 1)
  })

  it('a raised slot is clear again for the next call', () => {
    const { sync, host } = calls()
    runHere(sync, 'm', 0, () => host.raise(9), 9)
    assert.equal(runHere(sync, 'm', 0), 0)
  })

  it('after a shutdown every call starts cancelled; nested calls have slots of their own up to the limit', () => {
    const { sync, host } = calls()
    const outer = sync.enter(7, context, 'outer')
    const inner = sync.enter(7, context, 'inner')
    assert.notEqual(sync.flag(outer), sync.flag(inner))
    host.raiseAll()
    assert.equal(sync.flag(outer)[0], 1)
    assert.equal(sync.flag(inner)[0], 1)
    sync.leave(inner, 'inner', 0)
    sync.leave(outer, 'outer', 0)
    assert.equal(runHere(sync, 'm', 0), 1)
    const deep = calls().sync
    for (let i = 0; i < CANCEL_SLOTS; i++) deep.enter(7, context, 'm')
    assert.throws(() => deep.enter(7, context, 'm'), /nested more than 16 deep/)
  })
})
