/**
 * The plugin conformance suite, written once: every example plugin — each kind, placement and
 * transport — implements the same interface (docs/conformance.md) and must pass these behaviours.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import type { LoadedManifest } from '../../src/manifest/load.js'
import { rejectsWithCode } from './assert-code.js'
import type { ConformanceApi } from './conformance-api.js'
import { until } from './wait.js'

/** Runs the suite against one plugin folder; `label` tells apart runs of the same plugin (e.g. another broker). */
export function describePluginConformance(loaded: LoadedManifest, label = ''): void {
  const { id, kind, placement, transport } = loaded.manifest
  describe(`plugin conformance: ${id} (${kind}, ${placement}, ${transport})${label ? `, ${label}` : ''}`, () => {
    let host: Host
    before(async () => {
      host = await createHost({ plugins: [loaded.dir], logger: silentLogger, callTimeoutMs: 10_000 })
    })
    after(() => host.close())
    const api = () => host.plugin(id).proxy<ConformanceApi>()
    // An inline wasm plugin runs synchronously on the host thread: nothing can interrupt it, and it
    // cannot wait for the asynchronous host API (docs/wasm-abi.md). test/wasm.test.ts checks that it
    // says so with HOST_CALL_UNAVAILABLE; in a worker the same module passes everything below.
    const blocksHost = kind === 'wasm' && placement === 'inline'

    it('echo returns its argument, whatever JSON it is', async () => {
      for (const value of ['hi', 42, true, null, [1, 'a', { b: [] }], { nested: { x: 1.5, s: 'é✓' } }]) {
        assert.deepEqual(await api().echo(value), value)
      }
    })

    it('add adds', async () => {
      assert.equal(await api().add(2, 40), 42)
      assert.equal(await api().add(-1.5, 0.5), -1)
    })

    it('fail(code) rejects with a typed error carrying that code, the plugin and the method', async () => {
      const error = await rejectsWithCode(api().fail('E_CONFORMANCE'), 'E_CONFORMANCE')
      assert.equal(error.plugin, id)
      assert.equal(error.method, 'fail')
    })

    if (!blocksHost) {
      it('sleep honours cancellation: the caller is released at once and the plugin sees the cancel', async () => {
        const before = await api().cancelCount()
        const controller = new AbortController()
        const started = Date.now()
        const call = host.plugin(id).call('sleep', [5000], { signal: controller.signal })
        setTimeout(() => controller.abort(), 50)
        await rejectsWithCode(call, 'RPC_CANCELLED')
        assert.ok(Date.now() - started < 2000)
        await until(async () => (await api().cancelCount()) === before + 1)
        assert.equal(await api().sleep(10), 10)
      })
    }

    if (!blocksHost) {
      it('a call past its deadline ends with RPC_TIMEOUT and the plugin keeps serving', async () => {
        await rejectsWithCode(host.plugin(id).call('sleep', [3000], { timeout: 50 }), 'RPC_TIMEOUT')
        assert.equal(await api().add(1, 1), 2)
      })
    }

    it('bytes(n) returns n bytes intact', async () => {
      for (const n of [0, 1, 255, 70_000]) {
        const data = await api().bytes(n)
        assert.ok(data instanceof Uint8Array, `bytes(${n}) is a Uint8Array`)
        assert.equal(data.byteLength, n)
        for (let i = 0; i < n; i += 997) assert.equal(data[i], i & 255)
      }
    })

    if (!blocksHost) {
      it('callHost reaches the host API and returns its answer', async () => {
        assert.deepEqual(await api().callHost('host/echo', [{ from: id }]), { from: id })
        const info = (await api().callHost('host/info', [])) as { name: string; plugin: string }
        assert.equal(info.name, 'polyplug')
        assert.equal(info.plugin, id)
        await rejectsWithCode(api().callHost('host/does-not-exist', []), 'METHOD_NOT_FOUND')
      })
    }

    it('many concurrent calls all get their own answer', async () => {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => api().add(i, i)))
      assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => 2 * i))
    })

    // A native library in a worker shares the host's process: its segfault is not survivable there.
    const crashIsolated = placement !== 'inline' && !(kind === 'native' && placement === 'worker')
    if (crashIsolated) {
      it('crash() ends in-flight calls with PLUGIN_CRASHED; the next call starts it again', async () => {
        const inflight = api().sleep(5000)
        await rejectsWithCode(api().crash(), 'PLUGIN_CRASHED')
        await rejectsWithCode(inflight, 'PLUGIN_CRASHED')
        assert.equal(await api().echo('back'), 'back')
      })
    }
  })
}
