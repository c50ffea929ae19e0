/**
 * The bench's hand-written MessagePack-RPC floor over the shm rings (bench/shm-raw.ts,
 * `MsgpackFloorPipeline`): the work every MessagePack JSON-RPC host does per call and nothing
 * else. Its figures live in `npm run bench`; here only that it does that work: each call goes out
 * as one MessagePack request with an id of its own, and each answer reaches the caller with that
 * id, whatever order the answers come back in. The "plugin" is this test, on the other end of
 * the same rings.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { unpack } from 'msgpackr'
import { atomicsWakes, MsgpackFloorPipeline, RawRingPipeline } from '../bench/shm-raw.js'
import { checkRegion, Word } from '../src/transports/shm/layout.js'
import { ringsFor } from '../src/transports/shm/ring.js'
import { createWorkerRegion } from '../src/transports/shm/worker.js'

/** The plugin's ends of a region's rings: what was sent, and a way to answer and wake the host. */
function pluginSide(region: SharedArrayBuffer) {
  const { writer, reader } = ringsFor('plugin', region, checkRegion(region), { maxMessageBytes: 1 << 20 })
  const words = new Int32Array(region, 0, 8)
  return {
    received(): Uint8Array[] {
      const out: Uint8Array[] = []
      for (let m = reader.read(); m; m = reader.read()) out.push(m)
      return out
    },
    answer(frames: Uint8Array[]): void {
      for (const frame of frames) {
        writer.begin(frame)
        assert.ok(writer.pump(), 'a small answer fits the ring at once')
      }
      Atomics.add(words, Word.hostWake, 1)
      Atomics.notify(words, Word.hostWake)
    },
  }
}

describe('the MessagePack-RPC floor of the shm throughput rows', () => {
  it('sends each call as a MessagePack JSON-RPC request with an id of its own', () => {
    const region = createWorkerRegion()
    const floor = new MsgpackFloorPipeline(region, atomicsWakes(region))
    void floor.call('a')
    void floor.call(2)
    const sent = pluginSide(region).received().map((frame) => unpack(frame) as Record<string, unknown>)
    assert.deepEqual(sent, [
      { jsonrpc: '2.0', id: 1, method: 'echo', params: ['a'] },
      { jsonrpc: '2.0', id: 2, method: 'echo', params: [2] },
    ])
  })

  it('hands each echoed answer to the caller with its id, not to the next caller in line', async () => {
    const region = createWorkerRegion()
    const floor = new MsgpackFloorPipeline(region, atomicsWakes(region))
    const calls = ['a', 'b', 'c'].map((value) => floor.call(value))
    const plugin = pluginSide(region)
    plugin.answer(plugin.received().reverse())
    assert.deepEqual(await Promise.all(calls), ['a', 'b', 'c'])
  })

  it('is held against a raw pipeline that pairs answers with calls by order alone (what the floor adds)', async () => {
    const region = createWorkerRegion()
    const raw = new RawRingPipeline(region, atomicsWakes(region))
    const calls = [1, 2, 3].map((byte) => raw.call(new Uint8Array([byte])))
    const plugin = pluginSide(region)
    plugin.answer(plugin.received().reverse())
    assert.deepEqual((await Promise.all(calls)).map((reply) => reply[0]), [3, 2, 1])
  })
})
