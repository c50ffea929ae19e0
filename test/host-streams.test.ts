/**
 * Streams through the host API over real placements: a plugin consumes a stream the host API
 * produces and hands it back as its own result (host → plugin → host), and a break on the far
 * end reaches the host's producer. A plugin without the streams capability refuses stream
 * arguments with a typed error. (A plugin passing a stream argument to the host API is covered
 * peer to peer in rpc-stream.test.ts.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import type { ConformanceApi } from './support/conformance-api.js'
import { examplesDir } from './support/paths.js'
import { requires, tools } from './support/requires.js'
import { until } from './support/wait.js'

async function* numbers(n: number) {
  for (let i = 1; i <= n; i++) yield i
}

describe('streams through the host API', () => {
  let host: Host
  let hostTicksStopped = 0
  before(async () => {
    host = await createHost({
      plugins: [`${examplesDir}/js-worker`, `${examplesDir}/js-process-unix`, `${examplesDir}/python-stdio`, `${examplesDir}/native-c-inline`],
      logger: silentLogger,
      api: {
        async *ticks(n: number) {
          try {
            for (let i = 0; i < n; i++) yield i
          } finally {
            hostTicksStopped++
          }
        },
      },
      publicApi: ['ticks'],
    })
  })
  after(() => host.close())

  for (const id of ['echo-worker', 'echo-process-unix', 'python-stdio']) {
    it(`${id} consumes a stream the host API produces, and relays it back`, async (t) => {
      if (id === 'python-stdio' && requires(tools.python3)) return t.skip(String(requires(tools.python3)))
      const api = host.plugin(id).proxy<ConformanceApi>()
      const relayed = (await api.callHost('host/ticks', [4])) as AsyncIterable<number>
      const seen: number[] = []
      for await (const n of relayed) seen.push(n)
      assert.deepEqual(seen, [0, 1, 2, 3])
    })
  }

  it('a break on the relayed stream reaches the host API producer', async () => {
    const before = hostTicksStopped
    const api = host.plugin('echo-process-unix').proxy<ConformanceApi>()
    for await (const n of (await api.callHost('host/ticks', [1_000_000])) as AsyncIterable<number>) if (n === 3) break
    await until(() => hostTicksStopped === before + 1)
  })

  // A native library's ABI moves one value per call: its kind does not speak streams.
  it('a plugin that does not speak streams refuses a stream argument with STREAMS_UNSUPPORTED', { skip: requires(tools.gcc) }, async () => {
    const error = await rejectsWithCode(host.plugin('native-c-inline').call('echo', [numbers(3)]), 'STREAMS_UNSUPPORTED')
    assert.equal(error.plugin, 'native-c-inline')
    assert.match(error.message, /streams/)
  })
})
