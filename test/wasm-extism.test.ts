/**
 * Extism plugins: a module shaped like real PDK output (test/fixtures/wasm/extism-pdk.wat: memory
 * without a maximum, WASI imports, `_initialize`, the whole extism:host/env import set, a host
 * function) runs under polyplug, and every answer is checked against the official Extism
 * JavaScript SDK (@extism/extism) running the same bytes: output bytes, errors, vars, config, logs.
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Plugin as ExtismSdkPlugin } from '@extism/extism'
import { createHost, type Host, type HostOptions } from '../src/host/host.js'
import type { LogEntry, LogLevel } from '../src/host/log.js'
import { prepareWasi } from '../src/kinds/wasm-wasi.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { rejectsWithCode } from './support/assert-code.js'
import { fixturesDir } from './support/paths.js'
import { until } from './support/wait.js'
import { wasmPluginDir } from './support/wasm-fixture.js'
import { compileWat, watToWasm } from './support/wat.js'

const MIB = 1024 * 1024
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const cleanup: Array<() => Promise<unknown>> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {})
})

let wasm: Uint8Array
before(async () => {
  wasm = await compileWat(join(fixturesDir, 'wasm', 'extism-pdk.wat'))
})

const hostApi = { greet: (name: unknown) => `Hi ${JSON.stringify(name)}` }
const CONFIG = { colour: 'blue' }

interface Started {
  host: Host
  id: string
  lines: LogEntry[]
}

let nextId = 0
async function start(manifest: Record<string, unknown> = {}, options: Partial<HostOptions> = {}): Promise<Started> {
  const id = `extism-${++nextId}`
  const lines: LogEntry[] = []
  const dir = await wasmPluginDir({ id, wasm: { abi: 'extism', output: 'bytes' }, limits: { memoryMb: 16 }, permissions: { host: ['api:greet'] }, contributes: { configuration: { colour: { type: 'string' } } }, ...manifest }, wasm)
  const host = await createHost({
    plugins: [dir],
    api: hostApi,
    config: { [id]: CONFIG },
    logger: (entry) => (entry.plugin === id ? lines.push(entry) : undefined),
    callTimeoutMs: 10_000,
    ...options,
  })
  cleanup.push(() => rm(dir, { recursive: true, force: true }), () => host.close())
  return { host, id, lines }
}

/** The same module under the official SDK, with the same config, log level and host function. */
async function oracle(options: { logLevel?: LogLevel; maxPages?: number; allowedHosts?: string[]; runInWorker?: boolean } = {}) {
  await prepareWasi() // loads node:wasi without its experimental warning, before the SDK imports it
  const { default: createPlugin } = await import('@extism/extism')
  const lines: Array<{ level: string; message: string }> = []
  const logger = Object.fromEntries(['trace', 'debug', 'info', 'warn', 'error'].map((level) => [level, (message: string) => lines.push({ level, message })]))
  const plugin = await createPlugin(
    { wasm: [{ data: wasm }], config: CONFIG, ...(options.maxPages ? { memory: { maxPages: options.maxPages } } : {}) },
    {
      useWasi: true,
      logger: logger as unknown as Console,
      logLevel: options.logLevel ?? 'info',
      runInWorker: options.runInWorker ?? false,
      allowedHosts: options.allowedHosts ?? [],
      functions: { 'extism:host/user': { greet: (ctx, address: bigint) => ctx.store(hostApi.greet(ctx.read(address)!.text())) } },
    },
  )
  cleanup.push(() => plugin.close())
  return { plugin, lines }
}

type Outcome = { output: string } | { error: string }

async function viaPolyplug(started: Started, method: string, input: string): Promise<Outcome> {
  try {
    return { output: decoder.decode((await started.host.plugin(started.id).call(method, [encoder.encode(input)])) as Uint8Array) }
  } catch (error) {
    assert.ok(error instanceof PolyplugError, String(error))
    return { error: error.message }
  }
}

async function viaExtism(plugin: ExtismSdkPlugin, method: string, input: string): Promise<Outcome> {
  try {
    return { output: (await plugin.call(method, input))?.text() ?? '' }
  } catch (error) {
    return { error: (error as Error).message.replace(/^Plugin-originated error: /, '') }
  }
}

/** Calls `method` with `input` through both and expects the same output bytes or the same error. */
async function agree(started: Started, sdk: ExtismSdkPlugin, method: string, input = ''): Promise<Outcome> {
  const ours = await viaPolyplug(started, method, input)
  const theirs = await viaExtism(sdk, method, input)
  assert.deepEqual(ours, theirs, `${method}(${JSON.stringify(input)})`)
  return ours
}

for (const placement of ['inline', 'worker', 'process'] as const) {
  describe(`an Extism PDK-shaped module in ${placement}, against @extism/extism`, () => {
    it('loads with no memory maximum and WASI imports, runs _initialize once, and offers only Extism-callable exports', async () => {
      const started = await start({ placement })
      const sdk = (await oracle()).plugin
      assert.deepEqual(await agree(started, sdk, 'initialized'), { output: '1' })
      const methods = started.host.plugin(started.id).info().methods?.sort()
      assert.deepEqual(methods, ['blocks', 'config', 'count', 'fail', 'greet', 'grow', 'http', 'initialized', 'kernel_alloc', 'log', 'spin', 'trap', 'user', 'var_big', 'wasi'])
      for (const name of methods ?? []) assert.ok(await sdk.functionExists(name), name)
    })

    it('input, output, errors, config and vars agree byte for byte', async () => {
      const started = await start({ placement })
      const sdk = (await oracle()).plugin
      assert.deepEqual(await agree(started, sdk, 'greet', 'world'), { output: 'Hello, world' })
      await agree(started, sdk, 'greet', 'ünïcode and more than eight bytes')
      await agree(started, sdk, 'greet', '')
      assert.deepEqual(await agree(started, sdk, 'fail'), { error: 'boom' })
      const failed = await rejectsWithCode(started.host.plugin(started.id).call('fail'), 'EXTISM_ERROR')
      assert.equal(failed.method, 'fail')
      assert.deepEqual(await agree(started, sdk, 'config', 'colour'), { output: 'blue' })
      assert.deepEqual(await agree(started, sdk, 'config', 'size'), { error: 'no config key size' })
      for (const n of ['1', '2', '3']) assert.deepEqual(await agree(started, sdk, 'count'), { output: n })
      assert.deepEqual(await agree(started, sdk, 'grow', '1'), { output: 'grew' })
      assert.deepEqual(await agree(started, sdk, 'kernel_alloc', '100'), { output: 'allocated' })
      assert.deepEqual(await agree(started, sdk, 'blocks', '10'), { output: '!' })
    })

    it('more than 2^15 kernel blocks in one call keep working (their addresses reach the guest as negative i64)', async () => {
      const started = await start({ placement })
      assert.deepEqual(await viaPolyplug(started, 'blocks', '40000'), { output: '!' })
    })

    it('WASI is offered (stdout goes to the host log) and the results agree', async () => {
      const started = await start({ placement })
      const sdk = (await oracle()).plugin
      assert.deepEqual(await agree(started, sdk, 'wasi'), { output: '13' })
      await until(() => started.lines.some((l) => l.level === 'info' && l.message === 'wasi says hi'))
    })

    for (const level of ['trace', 'debug', 'info', 'error'] as const) {
      it(`log lines and get_log_level follow the host's level (${level}), trace distinct from debug`, async () => {
        const started = await start({ placement }, { logLevel: level })
        const { plugin: sdk, lines } = await oracle({ logLevel: level })
        await agree(started, sdk, 'log')
        const expected = lines.map(({ level: l, message }) => ({ level: l, message }))
        assert.ok(expected.length > 0)
        await until(() => started.lines.length >= expected.length)
        assert.deepEqual(started.lines.map(({ level: l, message }) => ({ level: l, message })), expected)
      })
    }

    it('a trap is PLUGIN_TRAPPED and a fresh instance (initialised again, vars gone) serves the next call', async () => {
      const started = await start({ placement })
      const h = started.host.plugin(started.id)
      await h.call('count')
      const error = await rejectsWithCode(h.call('trap'), 'PLUGIN_TRAPPED')
      assert.equal(error.method, 'trap')
      assert.equal(decoder.decode((await h.call('initialized')) as Uint8Array), '1')
      assert.equal(decoder.decode((await h.call('count')) as Uint8Array), '1')
      assert.equal(h.info().status, 'active')
    })
  })
}

describe('an Extism command module (_start, __wasm_call_ctors), as Extism\'s runtime treats it', () => {
  it('runs __wasm_call_ctors once, never _start by itself; _start is a method and the instance is re-created after it', async () => {
    const command = await compileWat(join(fixturesDir, 'wasm', 'extism-command.wat'))
    const dir = await wasmPluginDir({ id: 'extism-command', placement: 'inline', wasm: { abi: 'extism' } }, command)
    const host = await createHost({ plugins: [dir], logger: () => {} })
    cleanup.push(() => rm(dir, { recursive: true, force: true }), () => host.close())
    const h = host.plugin('extism-command')
    assert.equal(await h.call('state'), '10')
    assert.deepEqual(h.info().methods?.sort(), ['_start', 'state'])
    assert.equal(await h.call('_start'), '')
    assert.equal(await h.call('state'), '10') // a fresh instance: its constructors ran, _start has not
  })
})

describe('limits.memoryMb binds an Extism plugin: guest memory and kernel memory share it', () => {
  it('guest memory grows up to the limit and no further', async () => {
    const started = await start({ placement: 'inline' })
    const sdk = (await oracle()).plugin
    assert.deepEqual(await agree(started, sdk, 'grow', '100'), { output: 'grew' }) // 6.25 MiB: within 16 MiB
    // 200 more pages would make 19 MiB: refused here; the JavaScript SDK does not cap guest memory.
    assert.deepEqual(await viaPolyplug(started, 'grow', '200'), { output: 'refused' })
    assert.deepEqual(await viaExtism(sdk, 'grow', '200'), { output: 'grew' })
  })

  it('kernel allocations are refused past the limit, as the SDK refuses past memory.maxPages', async () => {
    const started = await start({ placement: 'inline' })
    const sdk = (await oracle({ maxPages: 16 * 16 })).plugin
    assert.deepEqual(await agree(started, sdk, 'kernel_alloc', String(8 * MIB)), { output: 'allocated' })
    // Past the limit both refuse the allocation. The SDK keeps counting the block it refused, so its
    // next allocation (the guest's "refused" output) fails too: the call errors instead.
    for (const bytes of [20 * MIB, 2048 * MIB]) {
      assert.deepEqual(await viaPolyplug(started, 'kernel_alloc', String(bytes)), { output: 'refused' })
      assert.deepEqual(await viaExtism(sdk, 'kernel_alloc', String(bytes)), { error: 'length longer than target block' })
    }
    assert.deepEqual(await agree(started, sdk, 'kernel_alloc', String(8 * MIB)), { output: 'allocated' }) // nothing held over
  })

  it('guest and kernel bytes count together, and vars count for as long as they live', async () => {
    const started = await start({ placement: 'inline' })
    const call = (method: string, input: string) => viaPolyplug(started, method, input)
    assert.deepEqual(await call('grow', '160'), { output: 'grew' }) // guest: 10 MiB + 64 KiB
    assert.deepEqual(await call('kernel_alloc', String(5 * MIB)), { output: 'allocated' })
    assert.deepEqual(await call('kernel_alloc', String(6 * MIB)), { output: 'refused' })

    const fresh = await start({ placement: 'inline' })
    const h = fresh.host.plugin(fresh.id)
    await rejectsWithCode(h.call('var_big', [String(9 * MIB)]), 'PLUGIN_MEMORY_LIMIT') // block + its copy: 18 MiB
    assert.deepEqual(await viaPolyplug(fresh, 'var_big', String(5 * MIB)), { output: 'stored' })
    assert.deepEqual(await viaPolyplug(fresh, 'kernel_alloc', String(10 * MIB)), { output: 'allocated' })
    assert.deepEqual(await viaPolyplug(fresh, 'kernel_alloc', String(11 * MIB)), { output: 'refused' }) // 11 + 5 held by the var
  })

  it('a declared maximum above the limit is lowered to it; a minimum above the limit is refused at load', async () => {
    const grower = (memory: string) =>
      watToWasm(`(module (memory (export "memory") ${memory})
        (func (export "grow") (result i32) (memory.grow (i32.const 300))))`) // returns -1 when refused
    const dir = await wasmPluginDir({ id: 'extism-big-max', placement: 'inline', wasm: { abi: 'extism' }, limits: { memoryMb: 16 } }, await grower('1 1000'))
    const minDir = await wasmPluginDir({ id: 'extism-big-min', placement: 'inline', wasm: { abi: 'extism' }, limits: { memoryMb: 16 } }, await grower('300'))
    const host = await createHost({ plugins: [dir, minDir], logger: () => {} })
    cleanup.push(() => rm(dir, { recursive: true, force: true }), () => rm(minDir, { recursive: true, force: true }), () => host.close())
    // A non-zero return fails the call, as in Extism's runtime; -1 is memory.grow's refusal.
    const refused = await rejectsWithCode(host.plugin('extism-big-max').call('grow'), 'EXTISM_ERROR')
    assert.equal(refused.message, 'Returned non-zero exit code: -1')
    const error = await rejectsWithCode(host.plugin('extism-big-min').call('grow'), 'PLUGIN_MEMORY_LIMIT')
    assert.match(error.message, /18\.75 MiB.*16 MiB.*limits\.memoryMb/)
  })

  it('an input larger than the limit fails with PLUGIN_MEMORY_LIMIT before the guest runs', async () => {
    const started = await start({ placement: 'inline' })
    await rejectsWithCode(started.host.plugin(started.id).call('greet', [new Uint8Array(17 * MIB)]), 'PLUGIN_MEMORY_LIMIT')
    assert.deepEqual(await viaPolyplug(started, 'greet', 'after'), { output: 'Hello, after' })
  })
})

describe('Extism host functions (extism:host/user) are the application host API, under its scopes', () => {
  it('in a worker, greet(input) calls host/greet and agrees with the SDK', async () => {
    const started = await start({ placement: 'worker' })
    const sdk = (await oracle()).plugin
    assert.deepEqual(await agree(started, sdk, 'user', 'bob'), { output: 'Hi "bob"' })
  })

  it('without the api:greet scope the call fails with PERMISSION_DENIED', async () => {
    const started = await start({ placement: 'worker', permissions: {} })
    await rejectsWithCode(started.host.plugin(started.id).call('user', ['bob']), 'PERMISSION_DENIED')
  })

  it('inline, the guest cannot wait for the host: HOST_CALL_UNAVAILABLE names the fix', async () => {
    const started = await start({ placement: 'inline' })
    const error = await rejectsWithCode(started.host.plugin(started.id).call('user', ['bob']), 'HOST_CALL_UNAVAILABLE')
    assert.match(error.message, /worker/)
  })
})

describe('Extism HTTP (http_request) follows permissions.network', () => {
  let server: Server
  let port: number
  before(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/ping' ? 200 : 404)
      res.end(req.url === '/ping' ? 'pong' : 'nothing here')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    cleanup.push(() => new Promise((resolve) => server.close(resolve)))
  })
  const request = (path: string) => JSON.stringify({ url: `http://127.0.0.1:${port}${path}`, method: 'GET', headers: {} })

  it('refused unless the manifest grants the host: PERMISSION_DENIED names the grant to add', async () => {
    const started = await start({ placement: 'worker' })
    const error = await rejectsWithCode(started.host.plugin(started.id).call('http', [request('/ping')]), 'PERMISSION_DENIED')
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*permissions\\.network\\.connect`))
    const other = await start({ placement: 'worker', permissions: { network: { connect: [`127.0.0.1:${port + 1}`] } } })
    await rejectsWithCode(other.host.plugin(other.id).call('http', [request('/ping')]), 'PERMISSION_DENIED')
    const sdk = (await oracle({ runInWorker: true })).plugin
    assert.ok('error' in (await viaExtism(sdk, 'http', request('/ping'))))
  })

  for (const placement of ['worker', 'process'] as const) it(`allowed when granted (${placement}): status and body agree with the SDK`, async () => {
    const started = await start({ placement, permissions: { host: ['api:greet'], network: { connect: [`127.0.0.1:${port}`] } } })
    const sdk = (await oracle({ runInWorker: true, allowedHosts: ['127.0.0.1'] })).plugin
    assert.deepEqual(await agree(started, sdk, 'http', request('/ping')), { output: '200 pong' })
    assert.deepEqual(await agree(started, sdk, 'http', request('/missing')), { output: '404 nothing here' })
  })
})

describe('Extism timeouts (worker placement)', () => {
  it('a runaway call ends at its deadline and the next call runs on a re-created instance', async () => {
    const started = await start({ placement: 'worker' }, { pingTimeoutMs: 300 })
    const h = started.host.plugin(started.id)
    assert.equal(decoder.decode((await h.call('count')) as Uint8Array), '1')
    await rejectsWithCode(h.call('spin', [], { timeout: 200 }), 'RPC_TIMEOUT')
    await until(() => h.info().lastError?.code === 'PLUGIN_HUNG')
    assert.equal(decoder.decode((await h.call('initialized')) as Uint8Array), '1')
    assert.equal(decoder.decode((await h.call('count')) as Uint8Array), '1')
  })
})
