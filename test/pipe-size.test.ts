/**
 * A fifo plugin's pipes hold 64 KiB until a frame larger than that crosses them; then the host
 * grows both (F_SETPIPE_SZ through koffi, src/transports/pipe-size.ts) so a 1 MiB message crosses
 * in one fill instead of sixteen. Read back from the kernel (F_GETPIPE_SZ) on the host's own fds
 * of the two FIFOs, found through /proc/self/fd.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { DEFAULT_PIPE_BYTES, GROWN_PIPE_BYTES, pipeBytes } from '../src/transports/pipe-size.js'
import { examplesDir } from './support/paths.js'
import { npm, requires } from './support/requires.js'

/** The capacities of the FIFOs this process has open, by path. */
function fifoSizes(): Map<string, number> {
  const sizes = new Map<string, number>()
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string
    try {
      target = readlinkSync(join('/proc/self/fd', name))
    } catch {
      continue // closed meanwhile
    }
    if (!/\/(in|out)$/.test(target) || !target.includes('polyplug')) continue
    const size = pipeBytes(Number(name))
    if (size !== undefined) sizes.set(target, size)
  }
  return sizes
}

const skip = process.platform !== 'linux' ? 'F_SETPIPE_SZ is Linux only' : requires(npm('koffi'))

describe('fifo pipes grow once a large frame crosses', { skip }, () => {
  let host: Host

  before(async () => {
    host = await createHost({ plugins: [join(examplesDir, 'js-process-fifo')], logger: () => {} })
  })

  after(async () => {
    await host?.close()
  })

  it('small messages leave both pipes at 64 KiB; a 1 MiB echo grows both, and comes back exactly', { timeout: 120_000 }, async () => {
    const plugin = host.plugin('echo-process-fifo')
    const before = fifoSizes()
    assert.equal(await plugin.call('echo', ['small']), 'small')
    const small = fifoSizes()
    const added = [...small.keys()].filter((path) => !before.has(path))
    assert.equal(added.length, 2, `the host holds the plugin's two FIFOs open: ${[...small.keys()].join(', ')}`)
    for (const path of added) assert.equal(small.get(path), DEFAULT_PIPE_BYTES, `${path} keeps its default size`)
    const payload = randomBytes(1024 * 1024)
    const echoed = await plugin.call('echo', [payload])
    assert.ok(echoed instanceof Uint8Array && Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).equals(payload), 'the 1 MiB echo round-trips')
    const grown = Math.min(GROWN_PIPE_BYTES, Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8')))
    const large = fifoSizes()
    for (const path of added) assert.equal(large.get(path), grown, `${path} was grown`)
  })
})
