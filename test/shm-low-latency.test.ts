/**
 * The shm transport's low-latency mode (docs/shm.md): `transportOptions.spinMicros` makes each
 * side poll for the next message after sending. The examples *-lowlatency pass the plugin
 * conformance suite (test/conformance.test.ts); here: the channel suite with spinning on, option
 * checking, and the guarantee that spinning never starves the host's event loop.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { shmOptions } from '../src/transports/shm/options.js'
import { shmPluginChannel, shmTransport } from '../src/transports/shm/sidecar.js'
import { rejectsWithCode } from './support/assert-code.js'
import { describeChannel } from './support/channel-suite.js'
import { examplesDir } from './support/paths.js'

describeChannel('shm in low-latency mode (both ends poll 100 µs after each send)', async () => {
  const endpoint = await shmTransport.prepare({ id: 'spin-pair', framing: 'length', maxFrameBytes: 32 << 20, options: { spinMicros: 100 } })
  assert.equal(endpoint.env.POLYPLUG_SHM_SPIN_US, '100')
  const controller = new AbortController()
  const [plugin, host] = await Promise.all([shmPluginChannel(endpoint.env), endpoint.connect({ stdin: null, stdout: null }, controller.signal)])
  return { host, plugin, dispose: () => endpoint.dispose() }
})

describe('shm transportOptions', () => {
  it('accepts spinMicros from 0 to 10000 and nothing else', () => {
    assert.deepEqual(shmOptions(undefined), {})
    assert.deepEqual(shmOptions({ spinMicros: 250 }), { spinMicros: 250 })
    for (const bad of [{ spinMicros: -1 }, { spinMicros: 1.5 }, { spinMicros: '200' }, { spinMicros: 10_001 }, { spin: 200 }]) {
      assert.throws(() => shmOptions(bad, 'p'), (error: Error & { code?: string; plugin?: string }) => error.code === 'MANIFEST_INVALID' && error.plugin === 'p')
    }
  })

  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polyplug-spin-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  for (const placement of ['worker', 'process'] as const) {
    it(`a ${placement} plugin with a bad spinMicros fails to start with MANIFEST_INVALID; the host keeps serving`, async () => {
      const folder = join(dir, `bad-${placement}`)
      await mkdir(folder)
      const entry = relative(folder, join(examplesDir, 'shared', 'conformance.js'))
      const manifest = { id: `bad-spin-${placement}`, version: '1.0.0', kind: 'js', entry, placement, transport: 'shm', transportOptions: { spinMicros: -5 } }
      await writeFile(join(folder, 'polyplug.json'), JSON.stringify(manifest))
      const host = await createHost({ plugins: [folder, join(examplesDir, 'js-inline')], logger: silentLogger })
      try {
        const error = await rejectsWithCode(host.plugin(manifest.id).call('echo', [1]), 'MANIFEST_INVALID')
        assert.equal(error.plugin, manifest.id)
        assert.equal(await host.plugin('echo-inline').call('echo', ['still here']), 'still here')
      } finally {
        await host.close()
      }
    })
  }
})

describe('shm low-latency mode and the event loop', () => {
  // The longest spin allowed: without the bound on back-to-back spins, every reply would land
  // inside a spin and nothing else would ever run on either side.
  const plugins = [
    { id: 'spin-c', kind: 'exec', entry: 'shm-c/build/plugin', placement: 'process', sidecar: { encoding: 'msgpack' } },
    { id: 'spin-worker', kind: 'js', entry: 'shared/conformance.js', placement: 'worker' },
  ]
  let host: Host
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polyplug-spin-'))
    for (const { entry, ...rest } of plugins) {
      const folder = join(dir, rest.id)
      await mkdir(folder)
      const manifest = { ...rest, version: '1.0.0', entry: relative(folder, join(examplesDir, entry)), transport: 'shm', transportOptions: { spinMicros: 10_000 } }
      await writeFile(join(folder, 'polyplug.json'), JSON.stringify(manifest))
    }
    host = await createHost({ plugins: [dir], logger: silentLogger, callTimeoutMs: 10_000 })
  })
  after(async () => {
    await host.close()
    await rm(dir, { recursive: true, force: true })
  })

  for (const { id } of plugins) {
    it(`${id}: the host's timers still fire during a back-to-back stream of calls`, async () => {
      const plugin = host.plugin(id)
      await plugin.activate()
      let fired = false
      setTimeout(() => {
        fired = true
      }, 5)
      const deadline = Date.now() + 1000
      let calls = 0
      while (!fired && Date.now() < deadline) {
        assert.equal(await plugin.call('echo', [calls]), calls)
        calls++
      }
      assert.ok(fired, `the timer did not fire during ${calls} calls`)
    })
  }

  it("the plugin's timers still fire during a stream of calls (a sleep ends while echoes stream)", async () => {
    const plugin = host.plugin('spin-worker')
    let slept: unknown
    const sleeping = plugin.call('sleep', [20]).then((value) => (slept = value))
    const deadline = Date.now() + 1000
    while (slept === undefined && Date.now() < deadline) await plugin.call('echo', [1])
    assert.equal(slept, 20, 'the sleep did not end while echoes streamed')
    await sleeping
  })
})
