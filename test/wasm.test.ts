/**
 * The `wasm` kind beyond the conformance interface: WASI grants, memory limits, traps, runaway
 * calls, synchronous host calls, captured stdio. Every plugin here is the real C module built from
 * kits/c/examples/conformance.c, in a throwaway folder with its own manifest.
 */
import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createHost, type Host, type HostOptions } from '../src/host/host.js'
import { silentLogger, type LogEntry } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import { fixturesDir } from './support/paths.js'
import { until } from './support/wait.js'
import { wasmPluginDir } from './support/wasm-fixture.js'
import { watToWasm } from './support/wat.js'

const cleanup: Array<() => Promise<unknown>> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {})
})

async function hostFor(manifest: Record<string, unknown>, options: Partial<HostOptions> = {}, wasm?: Uint8Array): Promise<{ host: Host; dir: string }> {
  const dir = await wasmPluginDir(manifest, wasm)
  const host = await createHost({ plugins: [dir], logger: silentLogger, callTimeoutMs: 10_000, ...options })
  cleanup.push(() => rm(dir, { recursive: true, force: true }), () => host.close())
  return { host, dir }
}

const text = (bytes: unknown) => new TextDecoder().decode(bytes as Uint8Array)

for (const placement of ['worker', 'inline'] as const) {
  describe(`wasm in ${placement}: WASI sees only what the manifest grants`, () => {
    it('an fs grant preopens exactly that directory; a file beside it cannot be read', async () => {
      const { host, dir } = await hostFor({ id: 'fs-granted', placement, permissions: { fs: [{ path: 'data', access: 'read' }] } })
      assert.equal(text(await host.plugin('fs-granted').call('readFile', [join(dir, 'data', 'hello.txt')])), 'granted contents')
      await rejectsWithCode(host.plugin('fs-granted').call('readFile', [join(dir, 'secret.txt')]), 'PERMISSION_DENIED')
      await rejectsWithCode(host.plugin('fs-granted').call('readFile', [join(dir, 'data', '..', 'secret.txt')]), 'PERMISSION_DENIED')
    })

    it('without an fs grant no file can be read, not even in the plugin folder', async () => {
      const { host, dir } = await hostFor({ id: 'fs-none', placement })
      await rejectsWithCode(host.plugin('fs-none').call('readFile', [join(dir, 'data', 'hello.txt')]), 'PERMISSION_DENIED')
      await rejectsWithCode(host.plugin('fs-none').call('readFile', ['/etc/hostname']), 'PERMISSION_DENIED')
    })

    it('env holds only the granted names', async () => {
      process.env.POLYPLUG_TEST_GRANTED = 'granted-value'
      process.env.POLYPLUG_TEST_SECRET = 'secret-value'
      const { host } = await hostFor({ id: 'env-granted', placement, permissions: { env: ['POLYPLUG_TEST_GRANTED'] } })
      assert.equal(await host.plugin('env-granted').call('getenv', ['POLYPLUG_TEST_GRANTED']), 'granted-value')
      assert.equal(await host.plugin('env-granted').call('getenv', ['POLYPLUG_TEST_SECRET']), null)
      assert.equal(await host.plugin('env-granted').call('getenv', ['PATH']), null)
    })

    it("the guest's stdout and stderr become host log lines tagged with the plugin id", async () => {
      const lines: LogEntry[] = []
      const { host } = await hostFor({ id: 'printer', placement }, { logger: (entry) => lines.push(entry) })
      await host.plugin('printer').call('print', ['hello from C'])
      await until(() => lines.some((l) => l.message === 'err:hello from C'))
      assert.ok(lines.some((l) => l.plugin === 'printer' && l.level === 'info' && l.message === 'hello from C'))
      assert.ok(lines.some((l) => l.plugin === 'printer' && l.level === 'warn' && l.message === 'err:hello from C'))
    })
  })

  describe(`wasm in ${placement}: limits and traps`, () => {
    it('a module declaring more memory than limits.memoryMb is refused; the host is unaffected', async () => {
      // The C module declares a 64 MiB maximum.
      const { host } = await hostFor({ id: 'too-big', placement, limits: { memoryMb: 16 } })
      await rejectsWithCode(host.plugin('too-big').call('echo', [1]), 'PLUGIN_MEMORY_LIMIT')
      await rejectsWithCode(host.plugin('too-big').call('echo', [1]), 'PLUGIN_MEMORY_LIMIT')
    })

    it('growing past the limit fails the call with PLUGIN_MEMORY_LIMIT and the plugin keeps serving', async () => {
      const { host } = await hostFor({ id: 'grower', placement, limits: { memoryMb: 64 } })
      assert.equal(await host.plugin('grower').call('grow', [8]), 8 << 20)
      await rejectsWithCode(host.plugin('grower').call('grow', [100]), 'PLUGIN_MEMORY_LIMIT')
      assert.equal(await host.plugin('grower').call('echo', ['still here']), 'still here')
    })

    it('a trap becomes PLUGIN_TRAPPED naming plugin and method, and a fresh instance serves the next call', async () => {
      const { host } = await hostFor({ id: 'trapper', placement })
      assert.equal(await host.plugin('trapper').call('grow', [1]), 1 << 20)
      const error = await rejectsWithCode(host.plugin('trapper').call('trap'), 'PLUGIN_TRAPPED')
      assert.equal(error.plugin, 'trapper')
      assert.equal(error.method, 'trap')
      assert.equal(await host.plugin('trapper').call('add', [20, 22]), 42)
      assert.equal(host.plugin('trapper').info().status, 'active') // recovered in place, no restart
    })
  })
}

describe('wasm in a worker: time limits and host calls', () => {
  it('a spinning call is stopped: the worker is terminated at the deadline and the next call re-instantiates', async () => {
    const { host } = await hostFor({ id: 'spinner', placement: 'worker' }, { pingTimeoutMs: 300 })
    assert.equal(await host.plugin('spinner').call('echo', ['before']), 'before')
    // The 200 ms deadline ended the call although the guest never yields: its message names it.
    const timedOut = await rejectsWithCode(host.plugin('spinner').call('spin', [], { timeout: 200 }), 'RPC_TIMEOUT')
    assert.match(timedOut.message, /within 200 ms/)
    await until(() => host.plugin('spinner').info().status !== 'active')
    assert.equal(host.plugin('spinner').info().lastError?.code, 'PLUGIN_HUNG')
    assert.equal(await host.plugin('spinner').call('echo', ['after']), 'after')
  })

  it('a sleeping guest answers heartbeats, so a long wait is not mistaken for a hang', async () => {
    const { host } = await hostFor({ id: 'sleeper', placement: 'worker' }, { pingTimeoutMs: 300 })
    let slept = false
    const sleeping = host.plugin('sleeper').call('sleep', [1500]).finally(() => (slept = true))
    // Sent after the sleep on the same channel: answered while the guest waits, the worker is blocked, not dead.
    assert.equal(await host.plugin('sleeper').call('add', [1, 2]), 3)
    assert.equal(slept, false, 'the nested call was answered during the sleep, not after it')
    assert.equal(await sleeping, 1500)
    assert.equal(host.plugin('sleeper').info().status, 'active')
  })

  it('the guest calls an asynchronous host function synchronously (the worker waits, the host thread does not)', async () => {
    const api = {
      // Answers only after the host's event loop turned: a blocked host thread could never answer.
      slowGreet: async (name: string) => {
        for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r))
        return `hi ${name}`
      },
      bytesBack: (n: number) => new Uint8Array(n).fill(7),
    }
    const { host } = await hostFor({ id: 'caller', placement: 'worker' }, { api, publicApi: true })
    assert.equal(await host.plugin('caller').call('callHost', ['host/slowGreet', ['wasm']]), 'hi wasm')
    const bytes = (await host.plugin('caller').call('callHost', ['host/bytesBack', [3]])) as Uint8Array
    assert.deepEqual([...bytes], [7, 7, 7])
    await rejectsWithCode(host.plugin('caller').call('callHost', ['host/nope', []]), 'METHOD_NOT_FOUND')
  })
})

describe('wasm inline: what the host thread cannot do', () => {
  it('a host call from an inline guest fails with HOST_CALL_UNAVAILABLE instead of deadlocking', async () => {
    const { host } = await hostFor({ id: 'inline-caller', placement: 'inline' })
    const error = await rejectsWithCode(host.plugin('inline-caller').call('callHost', ['host/echo', [1]]), 'HOST_CALL_UNAVAILABLE')
    assert.equal(error.plugin, 'inline-caller')
  })

  it('sleep blocks (it cannot be cancelled inline) but returns', async () => {
    const { host } = await hostFor({ id: 'inline-sleeper', placement: 'inline' })
    assert.equal(await host.plugin('inline-sleeper').call('sleep', [20]), 20)
  })

  it('crash() (the guest aborts) ends the call with PLUGIN_CRASHED and drops only the instance', async () => {
    const { host } = await hostFor({ id: 'inline-crasher', placement: 'inline' })
    await rejectsWithCode(host.plugin('inline-crasher').call('crash'), 'PLUGIN_CRASHED')
    assert.equal(await host.plugin('inline-crasher').call('echo', ['alive']), 'alive')
  })
})

describe('wasm memory supplied by the host', () => {
  it('a module that imports its memory (and declares no maximum) gets one capped at limits.memoryMb', async () => {
    const wasm = new Uint8Array(await readFile(join(fixturesDir, 'wasm', 'import-memory.wasm')))
    const { host } = await hostFor({ id: 'imports-memory', placement: 'worker', limits: { memoryMb: 16 } }, {}, wasm)
    assert.equal(await host.plugin('imports-memory').call('grow', [4]), 4 << 20)
    await rejectsWithCode(host.plugin('imports-memory').call('grow', [20]), 'PLUGIN_MEMORY_LIMIT')
    assert.equal(await host.plugin('imports-memory').call('echo', ['still here']), 'still here')
  })
})

describe('wasm modules that do not fit', () => {
  it('a module without the polyplug exports is refused with PLUGIN_UNAVAILABLE', async () => {
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
    const { host } = await hostFor({ id: 'not-polyplug', placement: 'inline' }, {}, empty)
    await rejectsWithCode(host.plugin('not-polyplug').call('echo', [1]), 'PLUGIN_UNAVAILABLE')
  })

  it('bytes that are not WebAssembly are refused with PLUGIN_UNAVAILABLE, in a worker too', async () => {
    const { host } = await hostFor({ id: 'garbage', placement: 'worker' }, {}, new TextEncoder().encode('not wasm at all'))
    await rejectsWithCode(host.plugin('garbage').call('echo', [1]), 'PLUGIN_UNAVAILABLE')
  })
})

describe('a wasm module written without the kit (docs/wasm-abi.md)', () => {
  // The minimal module of docs/wasm-abi.md "Without the kit": a bump allocator, one method, no result.
  const minimal = `(module
  (memory (export "memory") 1 16)
  (data (i32.const 16) "[\\"nothing\\"]")
  (global $next (mut i32) (i32.const 1024))
  (func (export "polyplug_abi_version") (result i32) (i32.const 1))
  (func (export "polyplug_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $p))
  (func (export "polyplug_free") (param i32 i32))
  (func (export "polyplug_describe") (result i64) (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 11)))
  (func (export "polyplug_call") (param i32 i32 i32 i32) (result i64) (i64.const 0)))`

  for (const placement of ['worker', 'inline'] as const) {
    it(`a zero result (ptr 0, len 0) is "no result": the call answers null (${placement})`, async () => {
      const { host } = await hostFor({ id: `no-result-${placement}`, placement }, {}, await watToWasm(minimal, 'minimal.wat'))
      assert.deepEqual(host.plugin(`no-result-${placement}`).info().methods ?? (await host.plugin(`no-result-${placement}`).activate(), host.plugin(`no-result-${placement}`).info().methods), ['nothing'])
      assert.equal(await host.plugin(`no-result-${placement}`).call('nothing', []), null)
    })
  }
})
