/**
 * Backpressure across process boundaries: a plugin that would produce 1 GiB of byte chunks, read
 * by a host that takes one chunk every 10 ms (the consumer's pacing, on purpose), keeps both
 * sides' memory bounded by the window, on stdio, unix, ws and shm.
 *
 * The test does not move the whole 1 GiB (that would take minutes at 10 ms a chunk): it reads
 * READ chunks, sampling both processes' live memory (heap + array buffers, after a full GC) as it
 * goes, then breaks out. Without flow control the producer would make chunks as fast as it can
 * (hundreds of MiB in the time the test reads), so both the memory bound and the count of
 * chunks produced would be exceeded.
 */
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { fixturesDir } from './support/paths.js'
import { until } from './support/wait.js'

v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const GiB = 1024 ** 3
const CHUNK = 512 * 1024
const WINDOW = 4
const READ = 100
const PACE_MS = 10
/** The stated bound on growth of live memory, host and plugin each. */
const BOUND = 32 * 1024 * 1024

interface Memory {
  live: number
  rss: number
}

function hostMemory(): Memory {
  gc()
  const m = process.memoryUsage()
  return { live: m.heapUsed + m.arrayBuffers, rss: m.rss }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`

for (const transport of ['stdio', 'unix', 'ws', 'shm']) {
  describe(`a 1 GiB stream read slowly over ${transport}`, () => {
    let host: Host
    const id = `stream-memory-${transport}`
    before(async () => {
      host = await createHost({ plugins: [`${fixturesDir}/stream-memory`], logger: silentLogger, callTimeoutMs: 30_000 })
    })
    after(() => host.close())

    it(`keeps host and plugin live-memory growth under ${mib(BOUND)} and the producer within its window`, async () => {
      const plugin = host.plugin(id)
      const baseHost = hostMemory()
      const basePlugin = await plugin.call<Memory>('memory')
      let peakHost = 0
      let peakPlugin = 0
      let read = 0
      for await (const chunk of await plugin.call<AsyncIterable<Uint8Array>>('flood', [GiB, CHUNK], { window: WINDOW })) {
        assert.equal(chunk.byteLength, CHUNK)
        assert.equal(chunk[CHUNK - 1], (read + 1) & 255)
        read++
        if (read % 10 === 0) {
          // Other calls travel on the same channel while the stream is held back.
          const { produced } = await plugin.call<{ produced: number }>('progress')
          assert.ok(produced <= read + WINDOW + 2, `the producer ran ${produced - read} chunks ahead with a window of ${WINDOW}`)
          peakHost = Math.max(peakHost, hostMemory().live - baseHost.live)
          peakPlugin = Math.max(peakPlugin, (await plugin.call<Memory>('memory')).live - basePlugin.live)
        }
        if (read === READ) break
        await new Promise((r) => setTimeout(r, PACE_MS))
      }
      await until(async () => (await plugin.call<{ stopped: number }>('progress')).stopped === 1)
      const { produced } = await plugin.call<{ produced: number }>('progress')
      const rssGrowth = (await plugin.call<Memory>('memory')).rss - basePlugin.rss
      console.log(
        `${transport}: read ${read} of ${GiB / CHUNK} chunks (${mib(read * CHUNK)}), produced ${produced}; ` +
          `live memory growth: host ${mib(peakHost)}, plugin ${mib(peakPlugin)}; plugin rss growth ${mib(rssGrowth)}`,
      )
      assert.ok(peakHost < BOUND, `host live memory grew ${mib(peakHost)}`)
      assert.ok(peakPlugin < BOUND, `plugin live memory grew ${mib(peakPlugin)}`)
      assert.ok(produced <= READ + WINDOW + 2, `produced ${produced} chunks for ${READ} read`)
    })
  })
}
