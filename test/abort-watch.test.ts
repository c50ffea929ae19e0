/**
 * A kind that runs a call elsewhere (a native call on the libuv pool) learns of the call's
 * cancellation or deadline through its context's watch (src/sdk/abort-watch.ts), without making
 * an AbortSignal: the direct invoker's context tells the watcher once, at the abort; a context
 * without the watch says so, and is watched through its signal as before.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { watchAbort, type AbortWatcher } from '../src/sdk/abort-watch.js'
import type { PluginContext } from '../src/sdk/define.js'
import { createDirectInvoker } from '../src/sdk/direct.js'
import { rejectsWithCode } from './support/assert-code.js'
import { examplesDir } from './support/paths.js'
import { until } from './support/wait.js'

/** A watcher that counts what it was told. */
function counter(): AbortWatcher & { told: number } {
  return {
    told: 0,
    aborted() {
      this.told++
    },
  }
}

/** An inline plugin whose `hold` method watches its context and answers only when `release` is called. */
function holding() {
  const watcher = counter()
  let watched: boolean | undefined
  let release = (): void => {}
  let watchLate = (): void => {}
  const methods = {
    hold: (...args: unknown[]) => {
      watched = watchAbort(args.at(-1) as object, watcher)
      return new Promise((resolve) => (release = () => resolve('done')))
    },
    late: async (...args: unknown[]) => {
      await new Promise<void>((resolve) => (watchLate = resolve))
      watched = watchAbort(args.at(-1) as object, watcher)
      return 'late'
    },
  }
  const invoke = createDirectInvoker(methods, { id: 'watching' } as PluginContext)
  return { invoke, watcher, watched: () => watched, release: () => release(), watchLate: () => watchLate() }
}

describe('an inline call tells a watcher of its abort', () => {
  it('a deadline that passes tells the watcher once; the caller gets RPC_TIMEOUT', async () => {
    const { invoke, watcher, watched } = holding()
    await rejectsWithCode(invoke('hold', [], {}, 20), 'RPC_TIMEOUT')
    assert.equal(watched(), true)
    assert.equal(watcher.told, 1)
  })

  it("the caller's abort tells the watcher; the caller gets RPC_CANCELLED", async () => {
    const { invoke, watcher } = holding()
    const stop = new AbortController()
    const call = invoke('hold', [], { signal: stop.signal }, 0)
    assert.equal(watcher.told, 0)
    stop.abort()
    await rejectsWithCode(call, 'RPC_CANCELLED')
    assert.equal(watcher.told, 1)
  })

  it('a call that ends is not told of anything', async () => {
    const { invoke, watcher, release } = holding()
    const call = invoke('hold', [], {}, 10_000)
    release()
    assert.equal(await call, 'done')
    assert.equal(watcher.told, 0)
  })

  it('a watch begun after the abort is told at once', async () => {
    const { invoke, watcher, watchLate } = holding()
    await rejectsWithCode(invoke('late', [], {}, 5), 'RPC_TIMEOUT')
    assert.equal(watcher.told, 0)
    watchLate() // the method begins its watch only now, after its caller saw the timeout
    await until(() => watcher.told === 1, 5_000, 'the late watch was told')
  })

  it('a context without a watch says so (its signal is watched instead)', () => {
    assert.equal(watchAbort({ signal: new AbortController().signal }, counter()), false)
  })
})

describe('a native inline call: the abort reaches the C code through the watch', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'polyplug-abort-watch-'))
  after(() => rmSync(scratch, { recursive: true, force: true }))

  /** The conformance C library as an inline native plugin `id` of a host of its own. */
  async function nativeInline(id: string) {
    const dir = join(scratch, id)
    mkdirSync(dir, { recursive: true })
    const entry = `${examplesDir}/native-c-inline/libconformance.so`
    writeFileSync(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'native', entry, placement: 'inline', transport: 'direct' }))
    const host = await createHost({ plugins: [dir], logger: silentLogger })
    after(() => host.close())
    return host.plugin(id)
  }

  it("a caller's abort raises the call's flag, and the flag serves the next call cleared", async () => {
    const plugin = await nativeInline('native-watch')
    await plugin.activate() // so that the call below reaches the C code at once
    const stop = new AbortController()
    const sleep = plugin.call('sleep', [600_000], { signal: stop.signal })
    stop.abort()
    await rejectsWithCode(sleep, 'RPC_CANCELLED')
    // The sleep sees its flag and returns cancelled, counted by the plugin itself.
    await until(async () => (await plugin.call('cancelCount')) === 1, 10_000, 'the cancel flag reached the sleep')
    // The next sleep takes the same flag from the free list: cleared, it runs in full (a raised one would end it cancelled).
    await plugin.call('sleep', [20])
    assert.equal(await plugin.call('cancelCount'), 1)
  })

  it('a call whose arguments cannot be encoded fails typed before the pool, and the plugin serves on and stops', async () => {
    const plugin = await nativeInline('native-refuse')
    const error = await rejectsWithCode(plugin.call('echo', [1n]), 'INTERNAL_ERROR')
    assert.equal(error.plugin, 'native-refuse')
    assert.equal(error.method, 'echo')
    assert.equal(await plugin.call('echo', [7]), 7)
    await plugin.stop()
  })
})
