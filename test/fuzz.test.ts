/**
 * Seeded fuzzing of the byte-stream stack in the suite: 100,000 frames over every framing and
 * every decoder, no uncaught error, the host side alive and its memory bounded. Longer runs with
 * other seeds: `npm run fuzz -- --seconds N [--seed S]`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fuzz } from './support/fuzz.js'

describe('fuzzing the framings and decoders', () => {
  it('100,000 seeded frames: no uncaught error, every framing and codec exercised, host side alive, RSS bounded', { timeout: 120_000 }, async () => {
    const result = await fuzz({ seed: 20261205, frames: 100_000 })
    assert.deepEqual(result.uncaught, [])
    assert.equal(result.frames, 100_000)
    assert.equal(Object.keys(result.perTarget).length, 7, 'length, content-length and ndjson, with JSON, JSON with attachments and MessagePack where they apply')
    assert.ok(result.channelsClosed > 0, 'broken frames did close channels')
    assert.ok(result.aliveAfter, 'a fresh channel still answers a call')
    assert.ok(result.rssGrowthMiB < 256, `RSS grew ${result.rssGrowthMiB.toFixed(1)} MiB`)
  })
})
