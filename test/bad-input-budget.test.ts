/**
 * A peer that floods bad messages while not reading its own input gets a bounded number of
 * answers and log reports per second, then one summary: the host's memory does not grow per bad
 * frame and its log is not flooded.
 */
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { describe, it } from 'node:test'
import { encodeFrame, FrameDecoder } from '../src/framing/framing.js'
import type { PolyplugError } from '../src/rpc/errors.js'
import { BAD_INPUT_PER_SECOND, Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { until } from './support/wait.js'

const FLOOD = 10_000

describe('bad input from the other side', () => {
  it(`${FLOOD} malformed frames get at most ${BAD_INPUT_PER_SECOND} answers and reports per second, then summaries with the count`, async () => {
    const incoming = new PassThrough()
    const outgoing = new PassThrough() // never read: the flooder does not read its answers
    const reports: PolyplugError[] = []
    const peer = new Peer(streamChannel(incoming, outgoing), { name: 'flooder', onProtocolError: (e) => reports.push(e) })
    const garbage = Buffer.concat(encodeFrame('length', new TextEncoder().encode('this is not JSON')))
    const started = Date.now()
    incoming.write(Buffer.concat(Array.from({ length: FLOOD }, () => garbage)))
    const counted = () =>
      reports.filter((r) => r.code === 'PARSE_ERROR').length +
      reports.map((r) => Number(/^(\d+) more bad messages/.exec(r.message)?.[1] ?? 0)).reduce((sum, n) => sum + n, 0)
    // Every bad message is counted, in a report of its own or in a summary.
    await until(() => counted() === FLOOD, 60_000)
    // The budget is per second: a loaded machine takes more seconds to read the flood, and each
    // second (and the one it started in) may spend its budget. Without the budget: one per frame.
    const budget = (Math.ceil((Date.now() - started) / 1000) + 1) * BAD_INPUT_PER_SECOND
    assert.ok(reports.some((r) => /more bad messages within a second/.test(r.message)))

    const answers = new FrameDecoder('length').push(outgoing.read() ?? new Uint8Array())
    assert.ok(answers.length <= budget, `${answers.length} answers written, budget ${budget}`)
    assert.match(new TextDecoder().decode(answers[0]), /"code":"PARSE_ERROR"/)
    const each = reports.filter((r) => r.code === 'PARSE_ERROR')
    assert.ok(each.length <= budget, `${each.length} reports, budget ${budget}`)
    assert.equal(peer.closed, false, 'bad messages do not close the channel')
    await peer.close()
  })
})
