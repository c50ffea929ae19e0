import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { createHost } from '../src/host/host.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'
import { hostFixtures } from './support/host-fixtures.js'
import { root } from './support/paths.js'

const plugins = `${hostFixtures}/state`

async function tempState(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-state-'))
  after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'state.db')
}

describe('host: storage and enabled state in SQLite', () => {
  it('a plugin stores, reads, lists and deletes keys through host/storage.*, and the application sees the same data', async () => {
    const host = await createHost({ plugins: [plugins], logger: () => {} })
    after(() => host.close())
    const store = host.plugin('store')
    await store.call('write', [1])
    assert.deepEqual(await store.call('read', ['k1']), { i: 1, text: 'value 1' })
    assert.deepEqual(host.storage('store').get('k1'), { i: 1, text: 'value 1' })
    host.storage('store').set('from-app', [1, 2])
    assert.deepEqual(await store.call('keys'), ['from-app', 'k1'])
    await store.call('remove', ['k1'])
    assert.equal(await store.call('read', ['k1']), null)
  })

  it('refuses a write past the quota with STORAGE_QUOTA_EXCEEDED and keeps what was stored', async () => {
    const host = await createHost({ plugins: [plugins], logger: () => {} })
    after(() => host.close())
    await host.plugin('store').call('big', [1000])
    await rejectsWithCode(host.plugin('store').call('big', [5000]), 'STORAGE_QUOTA_EXCEEDED')
    assert.equal((host.storage('store').get('big') as string).length, 1000)
  })

  it('storage survives kill -9 of the host mid-write: every acknowledged write is there', async () => {
    const statePath = await tempState()
    const hostModule = pathToFileURL(`${root}dist/src/host/host.js`).href
    const child = spawn(process.execPath, [`${plugins}/writer.mjs`, hostModule, plugins, statePath], { stdio: ['ignore', 'pipe', 'inherit'] })
    let acknowledged = -1
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line) acknowledged = Number(line)
    })
    // Generous: a loaded machine takes seconds to start a host (the deadline only keeps a broken writer from hanging the suite).
    await until(() => acknowledged >= 60, 120_000)
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    const host = await createHost({ plugins: [plugins], statePath, logger: () => {} })
    after(() => host.close())
    // Each of the last 40 acknowledged writes is still there (or overwritten by a later write to its slot).
    assert.equal(host.storage('store').keys().length, 40)
    for (let i = acknowledged - 39; i <= acknowledged; i++) {
      const value = host.storage('store').get<number>(`slot${i % 40}`)
      assert.ok(value !== undefined && value >= i, `slot${i % 40} holds ${value}, expected at least ${i}`)
    }
  })

  it('setEnabled(false) stops the plugin, refuses calls with PLUGIN_DISABLED, and persists across hosts', async () => {
    const statePath = await tempState()
    const first = await createHost({ plugins: [plugins], statePath, logger: () => {} })
    await first.plugin('store').call('write', [1])
    await first.setEnabled('store', false)
    assert.equal(first.plugin('store').info().status, 'disabled')
    await rejectsWithCode(first.plugin('store').call('keys'), 'PLUGIN_DISABLED')
    await first.close()
    const second = await createHost({ plugins: [plugins], statePath, logger: () => {} })
    after(() => second.close())
    assert.equal(second.plugin('store').info().status, 'disabled')
    await second.setEnabled('store', true)
    assert.deepEqual(await second.plugin('store').call('keys'), ['k1'])
  })

  it('stats() reports calls, errors and latency percentiles per method', async () => {
    const host = await createHost({ plugins: [plugins], logger: () => {} })
    after(() => host.close())
    for (let i = 0; i < 5; i++) await host.plugin('store').call('write', [i])
    await rejectsWithCode(host.plugin('store').call('big', [10_000]), 'STORAGE_QUOTA_EXCEEDED')
    const stats = host.stats().find((s) => s.id === 'store')
    assert.equal(stats?.calls, 6)
    assert.equal(stats?.errors, 1)
    assert.equal(stats?.methods.write?.calls, 5)
    const write = stats?.methods.write
    assert.ok(write && write.p50 >= 0 && write.p50 <= write.p95 && write.p95 <= write.p99)
  })
})
