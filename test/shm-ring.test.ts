/** The shared-memory ring on its own: layout checks, wrap-around, full rings, fragments, corruption. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PolyplugError } from '../src/rpc/errors.js'
import { checkRegion, Ctl, initRegion, RING_A, regionSize, SHM_MAGIC, Word } from '../src/transports/shm/layout.js'
import { RingReader, RingWriter, WRAP } from '../src/transports/shm/ring.js'

const CAP = 4096

function region(capacity = CAP, shared = true): ArrayBufferLike {
  const buffer = shared ? new SharedArrayBuffer(regionSize(capacity)) : new ArrayBuffer(regionSize(capacity))
  initRegion(buffer, capacity)
  return buffer
}

function pair(buffer: ArrayBufferLike, capacity = CAP, maxMessageBytes = 1 << 24) {
  return { w: new RingWriter(buffer, capacity, 'A'), r: new RingReader(buffer, capacity, 'A', { maxMessageBytes }) }
}

function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 7 + seed) & 255
  return out
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof PolyplugError && error.code === code)
}

function ctl(buffer: ArrayBufferLike): Int32Array {
  return new Int32Array(buffer, RING_A, 32)
}

describe('shm layout', () => {
  it('initialises a header that checks out, over shared and plain buffers', () => {
    assert.equal(checkRegion(region()), CAP)
    assert.equal(checkRegion(region(CAP, false)), CAP)
    assert.equal(new Uint32Array(region(), 0, 1)[0], SHM_MAGIC)
  })

  it('refuses bad magic, version, capacity and short regions with SHM_CORRUPT', () => {
    const cases: ((w: Int32Array) => void)[] = [
      (w) => (w[Word.magic] = 0x12345678),
      (w) => (w[Word.version] = 99),
      (w) => (w[Word.capacity] = 5000),
      (w) => (w[Word.capacity] = 1 << 20),
      (w) => (w[Word.headerSize] = 64),
    ]
    for (const damage of cases) {
      const buffer = region()
      damage(new Int32Array(buffer))
      throwsCode(() => checkRegion(buffer), 'SHM_CORRUPT')
    }
    throwsCode(() => checkRegion(new ArrayBuffer(100)), 'SHM_CORRUPT')
  })

  it('refuses an invalid capacity when initialising', () => {
    throwsCode(() => initRegion(new ArrayBuffer(regionSize(3000)), 3000), 'INVALID_PARAMS')
    throwsCode(() => initRegion(new ArrayBuffer(100), 4096), 'INVALID_PARAMS')
  })
})

describe('shm ring', () => {
  it('carries messages of every small size, in order, wrapping around many times', () => {
    const { w, r } = pair(region())
    let seed = 0
    const sent: Uint8Array[] = []
    for (let round = 0; round < 400; round++) {
      const m = payload((round * 37) % 700, seed++)
      w.begin(m)
      assert.equal(w.pump(), true)
      sent.push(m)
      if (round % 3 === 2) {
        for (let got = r.read(); got; got = r.read()) assert.deepEqual(got, sent.shift())
      }
    }
    for (let got = r.read(); got; got = r.read()) assert.deepEqual(got, sent.shift())
    assert.equal(sent.length, 0)
    assert.equal(r.readable, false)
  })

  it('carries a zero-length message', () => {
    const { w, r } = pair(region())
    w.begin(new Uint8Array(0))
    assert.equal(w.pump(), true)
    assert.equal(r.read()?.byteLength, 0)
    assert.equal(r.read(), undefined)
  })

  it('waits when full, then completes once the reader frees space', () => {
    const { w, r } = pair(region())
    const big = payload(1500, 1)
    w.begin(big)
    assert.equal(w.pump(), true)
    w.begin(big)
    assert.equal(w.pump(), true)
    w.begin(big)
    assert.equal(w.pump(), false, 'third record does not fit')
    assert.equal(w.busy, true)
    assert.equal(w.prepareSleep(), true, 'nothing was read: the writer may sleep')
    assert.deepEqual(r.read(), big)
    assert.equal(r.takeProducerWaiting(), true, 'the reader learns it must wake the writer')
    assert.equal(w.pump(), true)
    assert.deepEqual(r.read(), big)
    assert.deepEqual(r.read(), big)
    assert.equal(r.read(), undefined)
  })

  it('splits a message larger than the ring into fragments and reassembles it (partial writes)', () => {
    const { w, r } = pair(region())
    const huge = payload(50_000, 3)
    w.begin(huge)
    let got: Uint8Array | undefined
    let pumps = 0
    while (!got) {
      w.pump()
      pumps++
      got = r.read()
      assert.ok(pumps < 1000)
    }
    assert.ok(pumps > 10, 'it needed many partial writes')
    assert.deepEqual(got, huge)
    assert.equal(w.busy, false)
  })

  it('lends a view without copying when asked, and releases it on the next read', () => {
    const buffer = region()
    const { w, r } = pair(buffer)
    w.begin(payload(100, 9))
    w.pump()
    const view = r.read(true)!
    assert.equal(view.buffer, buffer, 'a view into the region itself')
    assert.deepEqual(view, payload(100, 9))
    assert.equal(Atomics.load(ctl(buffer), Ctl.head), 0, 'head stays put while the view is lent')
    assert.equal(r.read(true), undefined)
    assert.equal(Atomics.load(ctl(buffer), Ctl.head), 104)
  })

  it('reports out-of-range indices with SHM_CORRUPT on both ends', () => {
    const buffer = region()
    const { w, r } = pair(buffer)
    Atomics.store(ctl(buffer), Ctl.tail, CAP * 3)
    throwsCode(() => r.read(), 'SHM_CORRUPT')
    w.begin(payload(10, 0))
    throwsCode(() => w.pump(), 'SHM_CORRUPT')
    Atomics.store(ctl(buffer), Ctl.tail, 6)
    throwsCode(() => r.read(), 'SHM_CORRUPT')
  })

  it('reports corrupt records with SHM_CORRUPT', () => {
    const damage: ((data: Int32Array, c: Int32Array) => void)[] = [
      (data, c) => { data[0] = 100_000; Atomics.store(c, Ctl.tail, 8) }, // length beyond used
      (data, c) => { data[0] = 3000; Atomics.store(c, Ctl.tail, 3004 & ~3) }, // larger than half the ring
      (data, c) => { data[0] = WRAP | 5; Atomics.store(c, Ctl.tail, 8) }, // wrap marker with bits
      (data, c) => { data[0] = WRAP; Atomics.store(c, Ctl.tail, 8) }, // wrap past the tail
    ]
    for (const hurt of damage) {
      const buffer = region()
      const r = new RingReader(buffer, CAP, 'A', { maxMessageBytes: 1 << 20 })
      hurt(new Int32Array(buffer, 512, CAP / 4), ctl(buffer))
      throwsCode(() => r.read(), 'SHM_CORRUPT')
    }
  })

  it('refuses to reassemble more than its limit with FRAME_TOO_LARGE', () => {
    const { w, r } = pair(region(), CAP, 10_000)
    w.begin(payload(30_000, 1))
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) {
          w.pump()
          r.read()
        }
      },
      (error: unknown) => error instanceof PolyplugError && error.code === 'FRAME_TOO_LARGE',
    )
  })

  it('reports fragments that disagree with their announced total with SHM_CORRUPT', () => {
    for (const [total, firstLength] of [[10, 104], [8000, 104]] as const) {
      const buffer = region()
      const r = new RingReader(buffer, CAP, 'A', { maxMessageBytes: 1 << 20 })
      const data = new Int32Array(buffer, 512, CAP / 4)
      data[0] = (firstLength | 0x80000000) | 0 // MORE
      data[1] = total
      data[(4 + firstLength) / 4] = 8 // last fragment of 8 bytes
      Atomics.store(ctl(buffer), Ctl.tail, 4 + firstLength + 12)
      throwsCode(() => r.read(), 'SHM_CORRUPT')
    }
  })

  it('never loses a wake-up: a sleeping reader is flagged, an awake one is not', () => {
    const { w, r } = pair(region())
    assert.equal(r.prepareSleep(), true)
    w.begin(payload(5, 0))
    w.pump()
    assert.equal(w.takeConsumerWaiting(), true)
    assert.equal(w.takeConsumerWaiting(), false, 'one wake per sleep')
    assert.equal(r.prepareSleep(), false, 'data arrived: no sleep')
    assert.ok(r.read())
  })
})
