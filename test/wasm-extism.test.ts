/**
 * Extism compatibility: a module written against the Extism PDK ABI (test/fixtures/wasm/
 * extism-greet.wat, imports from extism:host/env) runs under a polyplug manifest, inline and in a
 * worker, with errors, traps and vars.
 */
import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import type { LogEntry } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import { fixturesDir } from './support/paths.js'
import { wasmPluginDir } from './support/wasm-fixture.js'

const cleanup: Array<() => Promise<unknown>> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {})
})

for (const placement of ['inline', 'worker'] as const) {
  describe(`an Extism-ABI module in ${placement}`, () => {
    const lines: LogEntry[] = []
    let host: Host
    const id = `extism-${placement}`
    const start = async () => {
      if (host) return host
      const wasm = new Uint8Array(await readFile(join(fixturesDir, 'wasm', 'extism-greet.wasm')))
      const dir = await wasmPluginDir({ id, placement, wasm: { abi: 'extism' }, limits: { memoryMb: 16 } }, wasm)
      host = await createHost({ plugins: [dir], logger: (entry) => (entry.plugin === id ? lines.push(entry) : undefined) })
      cleanup.push(() => rm(dir, { recursive: true, force: true }), () => host.close())
      return host
    }

    it('its exports are methods: input in, output out, logs tagged with the plugin', async () => {
      const h = await start()
      assert.equal(await h.plugin(id).call('greet', ['world']), 'Hello, world')
      assert.equal(await h.plugin(id).call('greet', [new TextEncoder().encode('bytes')]), 'Hello, bytes')
      assert.ok(lines.some((l) => l.level === 'info' && l.message === 'Hello, world'))
      assert.deepEqual(h.plugin(id).info().methods?.sort(), ['count', 'fail', 'greet', 'trap'])
    })

    it('error_set fails the call with EXTISM_ERROR and its message', async () => {
      const h = await start()
      const error = await rejectsWithCode(h.plugin(id).call('fail'), 'EXTISM_ERROR')
      assert.equal(error.message, 'boom')
      assert.equal(error.method, 'fail')
    })

    it('vars persist across calls; a trap is PLUGIN_TRAPPED and the module is re-instantiated', async () => {
      const h = await start()
      assert.equal(await h.plugin(id).call('count'), '\u0001')
      assert.equal(await h.plugin(id).call('count'), '\u0002')
      await rejectsWithCode(h.plugin(id).call('trap'), 'PLUGIN_TRAPPED')
      assert.equal(await h.plugin(id).call('greet', ['again']), 'Hello, again')
    })
  })
}
