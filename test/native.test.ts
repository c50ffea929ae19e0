/**
 * Native plugins (docs/native-abi.md): a library is checked before any of its code runs, every
 * failure to load has its own clear error, and a long native call never stalls the host's loop.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import koffi from 'koffi'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { loadPlugin } from '../src/placement/load.js'
import type { Manifest } from '../src/manifest/schema.js'
import { validateManifest } from '../src/manifest/validate.js'
import type { PolyplugError } from '../src/rpc/errors.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until, within } from './support/wait.js'
import { examplesDir, fixturesDir } from './support/paths.js'
import { requires, tools } from './support/requires.js'

const fixtures = `${fixturesDir}/native`
const cPlugin = `${examplesDir}/native-c-inline/libconformance.so`
const scratch = mkdtempSync(join(tmpdir(), 'polyplug-native-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

const manifest = (entry: string): Manifest => ({ id: 'fixture', version: '1.0.0', kind: 'native', entry, placement: 'inline', transport: 'direct' })

/** Loads `path` as a native plugin and returns the error it is refused with. */
async function refusal(path: string, code: string): Promise<PolyplugError> {
  const error = await rejectsWithCode(loadPlugin({ id: 'fixture', entryPath: path, manifest: manifest(path) }), code)
  assert.equal(error.plugin, 'fixture')
  return error
}

/** A plugin folder whose manifest points at `entry` (absolute). */
function pluginDir(id: string, entry: string, placement: 'inline' | 'worker' | 'process' = 'inline', extra: Partial<Manifest> = {}): string {
  const dir = join(scratch, id)
  mkdirSync(dir, { recursive: true })
  const transport = { inline: 'direct', worker: 'port', process: 'stdio' }[placement]
  writeFileSync(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'native', entry, placement, transport, ...extra }))
  return dir
}

/** The fixture's own count of calls into its init and call functions. */
function fixtureCalls(path: string): number {
  return koffi.load(path).func('int fixture_calls(void)')() as number
}

describe('native: a library is checked before any of its code runs', () => {
  it('refuses a wrong ABI version with ABI_MISMATCH, through the host, before init or any call', async () => {
    const path = `${fixtures}/wrong-abi.so`
    const host = await createHost({ plugins: [pluginDir('wrong-abi', path)], logger: silentLogger })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('wrong-abi').call('echo', ['x']), 'ABI_MISMATCH')
    assert.equal(error.plugin, 'wrong-abi')
    assert.deepEqual(error.data, { path, pluginAbi: 99, hostAbi: 1 })
    assert.equal(host.plugin('wrong-abi').info().lastError?.code, 'ABI_MISMATCH')
    assert.equal(fixtureCalls(path), 0)
  })

  it('the same refusal crosses from a process carrier with its code intact', async () => {
    const host = await createHost({ plugins: [pluginDir('wrong-abi-process', `${fixtures}/wrong-abi.so`, 'process')], logger: silentLogger })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('wrong-abi-process').call('echo', ['x']), 'ABI_MISMATCH')
    assert.equal(error.plugin, 'wrong-abi-process')
  })

  it('refuses a descriptor smaller than ABI version 1 needs with ABI_MISMATCH', async () => {
    const path = `${fixtures}/short-size.so`
    const error = await refusal(path, 'ABI_MISMATCH')
    assert.equal((error.data as { size: number }).size, 16)
    assert.equal(fixtureCalls(path), 0)
  })

  it('a library without the entry symbol: PLUGIN_UNAVAILABLE, reason missing-entry', async () => {
    const error = await refusal(`${fixtures}/no-entry.so`, 'PLUGIN_UNAVAILABLE')
    assert.equal((error.data as { reason: string }).reason, 'missing-entry')
  })

  it('a file that is not a library: PLUGIN_UNAVAILABLE, reason not-a-library', async () => {
    const path = join(scratch, 'not-a-library.so')
    writeFileSync(path, '#!/bin/sh\necho this is a script, not a shared library\n')
    const error = await refusal(path, 'PLUGIN_UNAVAILABLE')
    assert.equal((error.data as { reason: string }).reason, 'not-a-library')
  })

  it('a library built for another CPU: PLUGIN_UNAVAILABLE, reason wrong-architecture', async () => {
    // The real C plugin with its ELF e_machine rewritten: what an aarch64 build looks like to this host.
    const path = join(scratch, 'other-arch.so')
    const bytes = readFileSync(cPlugin)
    bytes.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18)
    writeFileSync(path, bytes)
    const error = await refusal(path, 'PLUGIN_UNAVAILABLE')
    assert.equal((error.data as { reason: string }).reason, 'wrong-architecture')
  })

  it('a missing file: PLUGIN_UNAVAILABLE, reason missing', async () => {
    const error = await refusal(join(scratch, 'nothing-here.so'), 'PLUGIN_UNAVAILABLE')
    assert.equal((error.data as { reason: string }).reason, 'missing')
  })

  it('a refused plugin does not stop the host serving the others', async () => {
    const host = await createHost({ plugins: [pluginDir('refused', `${fixtures}/wrong-abi.so`), `${examplesDir}/native-c-inline`], logger: silentLogger })
    after(() => host.close())
    await rejectsWithCode(host.plugin('refused').call('echo', [1]), 'ABI_MISMATCH')
    assert.equal(await host.plugin('native-c-inline').call('echo', ['still here']), 'still here')
  })
})

describe('native: long calls stay off the event loop', () => {
  for (const placement of ['inline', 'worker'] as const) {
    it(`a long native call (${placement}) leaves the event loop turning while it runs`, async () => {
      const id = `slow-${placement}`
      const copy = join(scratch, `${id}.so`)
      copyFileSync(cPlugin, copy)
      const host = await createHost({ plugins: [pluginDir(id, copy, placement)], logger: silentLogger })
      after(() => host.close())
      await host.plugin(id).call('echo', [0]) // started: what follows measures the call, not the start
      const stop = new AbortController()
      let settled = false
      const call = host.plugin(id).call('sleep', [600_000], { signal: stop.signal })
      const outcome = rejectsWithCode(call.finally(() => (settled = true)), 'RPC_CANCELLED')
      // A call that blocked the loop would return only after its sleep: no turn could run first.
      for (let turn = 0; turn < 20; turn++) await new Promise((r) => setTimeout(r, 1))
      assert.equal(settled, false, 'the call was still running while the event loop turned')
      stop.abort()
      await outcome
    })
  }
})

describe('native: shutdown', () => {
  it('closing the host ends a running native call and returns promptly', async () => {
    const copy = join(scratch, 'closing.so')
    copyFileSync(cPlugin, copy)
    const host = await createHost({ plugins: [pluginDir('closing', copy)], logger: silentLogger })
    const call = host.plugin('closing').call('sleep', [600_000])
    const outcome = rejectsWithCode(call, 'RPC_CANCELLED') // shutdown raises the call's cancel flag
    await until(() => host.plugin('closing').info().status === 'active', 30_000, 'the plugin is active')
    // A close that waited for the 10-minute sleep would not finish within the test's patience.
    await within(host.close(), 'close ends the running call instead of waiting for it')
    await outcome
  })
})

describe('native: process placement isolates a crashing library', { skip: requires(tools.cargo, tools.serdeJson) }, () => {
  it('a segfault ends the call with PLUGIN_CRASHED; the host and its other plugins keep serving', async () => {
    const host = await createHost({
      plugins: [`${examplesDir}/native-c-process`, `${examplesDir}/native-rust-process`, `${examplesDir}/native-c-inline`],
      logger: silentLogger,
    })
    after(() => host.close())
    const crashing = host.plugin('native-c-process')
    assert.equal(await host.plugin('native-rust-process').call('add', [1, 2]), 3)
    const inflight = crashing.call('sleep', [5000])
    const error = await rejectsWithCode(crashing.call('crash'), 'PLUGIN_CRASHED')
    assert.equal((error.data as { signal?: string }).signal, 'SIGSEGV')
    await rejectsWithCode(inflight, 'PLUGIN_CRASHED')
    assert.equal(await host.plugin('native-c-inline').call('echo', ['host alive']), 'host alive')
    assert.equal(await host.plugin('native-rust-process').call('echo', ['neighbour alive']), 'neighbour alive')
    assert.equal(await crashing.call('echo', ['restarted']), 'restarted')
  })
})

describe('native: the entry need not end in .so', () => {
  it('a library named thing.node that exports polyplug_plugin_v1 loads as a native plugin', async () => {
    const copy = join(scratch, 'thing.node')
    copyFileSync(cPlugin, copy)
    const host = await createHost({ plugins: [pluginDir('dot-node', copy)], logger: silentLogger })
    after(() => host.close())
    assert.equal(await host.plugin('dot-node').call('add', [20, 22]), 42)
  })
})

describe('native: instances', () => {
  it('one library file serving two plugins keeps their state apart (each reaches the host as itself)', async () => {
    const shared = join(scratch, 'shared.so')
    copyFileSync(cPlugin, shared)
    const host = await createHost({ plugins: [pluginDir('twin-a', shared), pluginDir('twin-b', shared)], logger: silentLogger })
    after(() => host.close())
    const [a, b] = await Promise.all([host.plugin('twin-a').call('callHost', ['host/info', []]), host.plugin('twin-b').call('callHost', ['host/info', []])])
    assert.equal((a as { plugin: string }).plugin, 'twin-a')
    assert.equal((b as { plugin: string }).plugin, 'twin-b')
    await rejectsWithCode(host.plugin('twin-a').call('sleep', [5000], { timeout: 30 }), 'RPC_TIMEOUT')
    // The timeout reaches the plugin as its cancel flag; the sleep notices within a millisecond or so.
    await until(async () => (await host.plugin('twin-a').call('cancelCount')) === 1, 10_000, 'the cancel flag reached the sleep')
    assert.equal(await host.plugin('twin-a').call('cancelCount'), 1)
    assert.equal(await host.plugin('twin-b').call('cancelCount'), 0)
  })
})

describe('native in a worker: calls on the worker thread (POLYPLUG_NATIVE_SYNC=always)', () => {
  // Every call runs synchronously on the worker's thread, as a method does once its calls have
  // proved short; the host raises its cancel flag in shared memory and its host calls wait on the
  // worker's sync bridge.
  const saved = process.env.POLYPLUG_NATIVE_SYNC
  before(() => (process.env.POLYPLUG_NATIVE_SYNC = 'always')) // the worker copies the environment when it starts
  after(() => (saved === undefined ? delete process.env.POLYPLUG_NATIVE_SYNC : (process.env.POLYPLUG_NATIVE_SYNC = saved)))

  /** A host with one worker plugin on its own copy of the C library. */
  async function workerHost(id: string, options: Partial<Parameters<typeof createHost>[0]> = {}) {
    const copy = join(scratch, `${id}.so`)
    copyFileSync(cPlugin, copy)
    const host = await createHost({ plugins: [pluginDir(id, copy, 'worker')], logger: silentLogger, ...options })
    after(() => host.close())
    return { host, plugin: host.plugin(id) }
  }

  it('a blocked call whose deadline passes ends with RPC_TIMEOUT: the plugin sees its flag and serves on', async () => {
    const { plugin } = await workerHost('sync-deadline')
    const before = await plugin.call<number>('cancelCount')
    await rejectsWithCode(plugin.call('sleep', [600_000], { timeout: 50 }), 'RPC_TIMEOUT')
    // Read after the sleep returned (the worker's thread was in it): the flag reached the C code, not a message.
    assert.equal(await plugin.call('cancelCount'), before + 1)
    assert.equal(await plugin.call('add', [20, 22]), 42)
  })

  it("a caller's abort ends a blocked call with RPC_CANCELLED and reaches the plugin", async () => {
    const { plugin } = await workerHost('sync-cancel')
    const before = await plugin.call<number>('cancelCount')
    const stop = new AbortController()
    const call = plugin.call('sleep', [600_000], { signal: stop.signal })
    // Queued behind the sleep on the worker's thread: answered only once the sleep has seen the cancel.
    const count = plugin.call<number>('cancelCount')
    stop.abort()
    await rejectsWithCode(call, 'RPC_CANCELLED')
    assert.equal(await count, before + 1)
  })

  it('host calls from a call on the worker thread reach the host API and return its answers', async () => {
    const { plugin } = await workerHost('sync-host-calls')
    assert.deepEqual(await plugin.call('callHost', ['host/echo', [{ n: 1 }]]), { n: 1 })
    assert.equal((await plugin.call<{ plugin: string }>('callHost', ['host/info', []])).plugin, 'sync-host-calls')
    await rejectsWithCode(plugin.call('callHost', ['host/does-not-exist', []]), 'METHOD_NOT_FOUND')
  })

  it('the host may call the plugin back while a host call waits (the request runs nested)', async () => {
    const started: { host?: Awaited<ReturnType<typeof workerHost>>['host'] } = {}
    const { host, plugin } = await workerHost('sync-nested', { api: { back: (a: number, b: number) => started.host!.plugin('sync-nested').call('add', [a, b]) }, publicApi: true })
    started.host = host
    assert.equal(await plugin.call('callHost', ['host/back', [40, 2]]), 42)
  })

  it('closing the host ends a blocked call and returns promptly', async () => {
    const { host, plugin } = await workerHost('sync-closing')
    await plugin.call('echo', [0])
    const call = plugin.call('sleep', [600_000])
    call.catch(() => {})
    await within(host.close(), 'close raises the blocked call\'s flag instead of waiting for it')
  })
})

describe("native in a worker: the manifest's native.workerCalls", () => {
  // Without POLYPLUG_NATIVE_SYNC in the host's environment (the override), the manifest decides.
  const saved = process.env.POLYPLUG_NATIVE_SYNC
  before(() => delete process.env.POLYPLUG_NATIVE_SYNC)
  after(() => (saved === undefined ? delete process.env.POLYPLUG_NATIVE_SYNC : (process.env.POLYPLUG_NATIVE_SYNC = saved)))

  async function workerPlugin(id: string, workerCalls: 'pool' | 'thread') {
    const copy = join(scratch, `${id}.so`)
    copyFileSync(cPlugin, copy)
    const host = await createHost({ plugins: [pluginDir(id, copy, 'worker', { native: { workerCalls } })], logger: silentLogger })
    after(() => host.close())
    return host.plugin(id)
  }

  /** Starts a long sleep, then `add`; cancels the sleep once `add` answered (pool) or at once (thread): which call settled first. */
  async function order(workerCalls: 'pool' | 'thread'): Promise<string[]> {
    const plugin = await workerPlugin(`calls-${workerCalls}`, workerCalls)
    // Proven-short methods would move to the thread under `proven`: prove `add` first, so only the setting keeps it apart.
    for (let i = 0; i < 20; i++) await plugin.call('add', [i, 1])
    const settled: string[] = []
    const stop = new AbortController()
    const sleep = plugin.call('sleep', [600_000], { signal: stop.signal }).catch((error: PolyplugError) => void settled.push(`sleep ${error.code}`))
    const add = plugin.call<number>('add', [40, 2]).then((sum) => void settled.push(`add ${sum}`))
    if (workerCalls === 'thread') stop.abort()
    else await add
    stop.abort()
    await Promise.all([sleep, add])
    return settled
  }

  it('pool: every call on the libuv pool, so a short call answers while a long one runs', async () => {
    assert.deepEqual(await order('pool'), ['add 42', 'sleep RPC_CANCELLED'])
  })

  it("thread: every call on the worker's thread, so a short call waits for the long one before it", async () => {
    assert.deepEqual(await order('thread'), ['sleep RPC_CANCELLED', 'add 42'])
  })

  it('an unknown value is refused at validation, naming the allowed ones', () => {
    const value = { id: 'calls-bad', version: '1.0.0', kind: 'native', entry: 'x.so', placement: 'worker', native: { workerCalls: 'sometimes' } }
    assert.throws(() => validateManifest(value, 'polyplug.json'), (error: Error) => /native\/workerCalls.*"proven", "pool", "thread".*"sometimes"/.test(error.message))
  })
})
