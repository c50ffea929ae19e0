/**
 * A plugin that stops reading must not cost the host more than O(1) per queued message: when the
 * plugin is stopped, its queue is released in bounded slices, one per event-loop turn, so the
 * event loop keeps turning however many writes wait. The test counts what each turn releases (a
 * count a loaded machine cannot change); the event-loop delay it keeps is measured by
 * `npm run bench -- --only faults` ("stop a plugin with 100,000 queued writes").
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RELEASE_BATCH } from '../src/transports/write-queue.js'
import { stopWithQueuedWrites } from './support/faults.js'

describe('a byte-stream channel whose reader stalled', () => {
  it('stopping it with 100,000 queued writes releases them in slices of at most RELEASE_BATCH per event-loop turn', async () => {
    const result = await stopWithQueuedWrites(100_000)
    assert.ok(result.queued > 90_000, `most writes were queued behind the full pipe (${result.queued})`)
    assert.equal(result.released, result.queued, 'every waiting send settled')
    // Released all at once (a synchronous loop over the queue) this would be ~100,000.
    assert.ok(result.maxReleasedPerTurn <= RELEASE_BATCH, `${result.maxReleasedPerTurn} sends released in one event-loop turn (slice ${RELEASE_BATCH})`)
    assert.ok(result.maxReleasedPerTurn > 0)
  })
})
