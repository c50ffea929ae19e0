/**
 * The shm transport end to end: the channel suite over a real mapped file with FIFO doorbells,
 * backpressure on a ring nobody drains, corruption seen on a live channel, and plugin processes
 * killed mid-message (host unaffected, calls rejected, region removed).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Channel } from '../src/channels/channel.js'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { msgpackCodec } from '../src/rpc/msgpack.js'
import { atomicsDoorbell } from '../src/transports/shm/atomics-doorbell.js'
import { shmChannel } from '../src/transports/shm/channel.js'
import { Ctl, initRegion, RING_A, RING_B, regionSize, Word } from '../src/transports/shm/layout.js'
import { shmPluginChannel, shmRegionOf, shmTransport } from '../src/transports/shm/sidecar.js'
import { rejectsWithCode } from './support/assert-code.js'
import { describeChannel } from './support/channel-suite.js'
import { PATIENCE_MS, until } from './support/wait.js'
import { examplesDir } from './support/paths.js'

/** Both ends of the process flavour in one process: two mappings of one file, two FIFOs. */
async function processPair() {
  const endpoint = await shmTransport.prepare({ id: 'pair', framing: 'length', maxFrameBytes: 32 << 20 })
  const controller = new AbortController()
  const [plugin, host] = await Promise.all([
    shmPluginChannel(endpoint.env),
    endpoint.connect({ stdin: null, stdout: null }, controller.signal),
  ])
  return { host, plugin, dir: dirname(endpoint.env.POLYPLUG_SHM_PATH as string), dispose: () => endpoint.dispose() }
}

describeChannel('shm (mapped file in /dev/shm, FIFO doorbells)', processPair)

function workerRegion(capacity = 4096): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(regionSize(capacity))
  initRegion(buffer, capacity)
  return buffer
}

describe('shm backpressure', () => {
  it('queues sends on a full ring, fails them with CHANNEL_FULL after the deadline, and bounds the queue', async () => {
    const buffer = workerRegion()
    const host = shmChannel({ role: 'host', buffer, doorbell: atomicsDoorbell(buffer, 'host'), sendTimeoutMs: 150, maxQueuedBytes: 8192 })
    const message = new Uint8Array(1000)
    let accepted = 0
    while ((await Promise.race([Promise.resolve(host.send(message)).then(() => true), new Promise((r) => setImmediate(() => r(false)))])) === true) accepted++
    assert.ok(accepted >= 2 && accepted <= 4, `a 4 KiB ring took ${accepted} messages of 1000 bytes`)
    // One is waiting already (the race above); fill the bounded queue, then one more is refused at once.
    const waiting: Promise<void>[] = []
    assert.throws(() => {
      for (let i = 0; i < 20; i++) waiting.push(Promise.resolve(host.send(message)))
    }, (error: unknown) => (error as { code?: string }).code === 'CHANNEL_FULL')
    assert.ok(waiting.length >= 5 && waiting.length <= 8, `the 8 KiB queue took ${waiting.length} more messages`)
    for (const send of waiting) await rejectsWithCode(send, 'CHANNEL_FULL')
    assert.equal(host.closed, false, 'a send that never started does not break the channel')
    await host.close()
  })

  it('resumes when the reader frees space: a 3 MiB message crosses a 4 KiB ring', async () => {
    const buffer = workerRegion()
    const host = shmChannel({ role: 'host', buffer, doorbell: atomicsDoorbell(buffer, 'host') })
    const big = new Uint8Array(3 << 20).map((_, i) => i % 251)
    const sent = host.send(big)
    // The reader attaches only once the writer has filled what it could and waits for space.
    const ringA = new Int32Array(buffer, RING_A, 32)
    await until(() => ((Atomics.load(ringA, Ctl.tail) - Atomics.load(ringA, Ctl.head)) >>> 0) > 0, 0, 'the writer started the message')
    const plugin = shmChannel({ role: 'plugin', buffer, doorbell: atomicsDoorbell(buffer, 'plugin') })
    const got = new Promise<Uint8Array>((resolve) => plugin.onMessage((m) => resolve(m as Uint8Array)))
    await sent
    assert.ok(Buffer.from(await got).equals(Buffer.from(big)))
    await host.close()
    await plugin.close()
  })
})

describe('shm corruption', () => {
  it('refuses a region with a bad header at once', () => {
    const buffer = workerRegion()
    new Int32Array(buffer)[Word.magic] = 0
    assert.throws(() => shmChannel({ role: 'plugin', buffer, doorbell: atomicsDoorbell(buffer, 'plugin') }), (e: unknown) => (e as { code?: string }).code === 'SHM_CORRUPT')
  })

  for (const [what, damage] of [
    ['an out-of-range index', (ring: Int32Array) => Atomics.store(ring, Ctl.tail, 1 << 24)],
    ['a record longer than the ring', (ring: Int32Array, data: Int32Array) => {
      data[0] = 0x3fffffff
      Atomics.store(ring, Ctl.tail, 64)
    }],
  ] as const) {
    it(`closes a live channel with SHM_CORRUPT on ${what}`, async () => {
      const buffer = workerRegion()
      const plugin = shmChannel({ role: 'plugin', buffer, doorbell: atomicsDoorbell(buffer, 'plugin') })
      const closed = new Promise<Error | undefined>((resolve) => plugin.onClose(resolve))
      damage(new Int32Array(buffer, RING_A, 32), new Int32Array(buffer, 512, 16))
      atomicsDoorbell(buffer, 'host').ring()
      const error = await closed
      assert.equal((error as { code?: string }).code, 'SHM_CORRUPT')
      assert.equal(plugin.closed, true)
    })
  }
})

/** The pid and shm directory of the plugin process this host started for `id` (read from /proc). */
function pluginProcess(id: string): { pid: number; dir: string } | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let env: string
    try {
      env = readFileSync(`/proc/${entry}/environ`, 'utf8')
    } catch {
      continue
    }
    const vars = new Map(env.split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
    if (vars.get('POLYPLUG_PLUGIN_ID') === id && vars.get('POLYPLUG_HOST_PID') === String(process.pid) && vars.get('POLYPLUG_SHM_PATH')) {
      return { pid: Number(entry), dir: dirname(vars.get('POLYPLUG_SHM_PATH') as string) }
    }
  }
  return undefined
}

for (const id of ['echo-shm-c', 'echo-process-shm']) {
  describe(`shm plugin process failures: ${id}`, () => {
    let host: Host
    const dirs = new Set<string>()
    before(async () => {
      host = await createHost({ plugins: [examplesDir], logger: silentLogger, callTimeoutMs: 20_000 })
    })
    after(async () => {
      await host.close()
      for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} is gone`)
    })

    it('a plugin killed while it writes a 16 MiB answer: the call rejects, the host goes on, the region is removed', async () => {
      const plugin = host.plugin(id)
      assert.equal(await plugin.call('echo', ['up']), 'up')
      const proc = pluginProcess(id)
      assert.ok(proc, 'the plugin process is found')
      dirs.add(proc.dir)
      assert.equal(existsSync(proc.dir), false, 'the region is unlinked once both sides have it open')
      assert.ok(readFileSync(`/proc/${proc.pid}/maps`, 'utf8').includes(`${proc.dir}/region (deleted)`), 'the plugin still maps it')
      const region = shmRegionOf(id)
      assert.ok(region)
      const big = plugin.call('bytes', [16 * 1024 * 1024 - 4096])
      await new Promise((r) => setImmediate(r)) // the request is in ring A now
      // Keep the host's thread busy (so nothing drains ring B) until the plugin has filled half of
      // it with the start of its 16 MiB answer, then kill it: it dies in the middle of the message.
      const ringB = new Int32Array(region, RING_B, 32)
      const started = Date.now()
      const capacity = new Int32Array(region, 0, 8)[Word.capacity]!
      while (((Atomics.load(ringB, Ctl.tail) - Atomics.load(ringB, Ctl.head)) >>> 0) < capacity / 4) {
        assert.ok(Date.now() - started < PATIENCE_MS, 'the plugin started its answer')
      }
      process.kill(proc.pid, 'SIGKILL')
      const error = await rejectsWithCode(big, 'PLUGIN_CRASHED')
      assert.equal(error.plugin, id)
      await until(() => shmRegionOf(id) === undefined)
      assert.equal(await plugin.call('add', [2, 3]), 5, 'the next call starts it again')
      const again = pluginProcess(id)
      if (again) dirs.add(again.dir)
    })

    it('a corrupt index written into the live region closes the channel with SHM_CORRUPT; the plugin is replaced', async () => {
      const plugin = host.plugin(id)
      assert.equal(await plugin.call('echo', [1]), 1)
      const proc = pluginProcess(id)
      assert.ok(proc)
      dirs.add(proc.dir)
      // Ring B (plugin -> host): its tail jumps far past the head, in the mapping both share.
      const region = shmRegionOf(id)
      assert.ok(region)
      Atomics.store(new Int32Array(region, RING_B, 1), 0, 1 << 28)
      await rejectsWithCode(plugin.call('echo', ['after']), 'SHM_CORRUPT')
      await until(() => shmRegionOf(id) === undefined)
      await until(() => { try { process.kill(proc.pid, 0); return false } catch { return true } })
      assert.equal(await plugin.call('echo', ['fresh']), 'fresh')
      const again = pluginProcess(id)
      if (again) dirs.add(again.dir)
    })

    it('the host\'s event loop keeps turning while 16 MiB cross (nothing blocks it)', async () => {
      let ticks = 0
      const timer = setInterval(() => ticks++, 1)
      try {
        const back = await host.plugin(id).call<Uint8Array>('bytes', [16 * 1024 * 1024 - 4096])
        assert.equal(back.byteLength, 16 * 1024 * 1024 - 4096)
      } finally {
        clearInterval(timer)
      }
      assert.ok(ticks >= 2, `timers fired ${ticks} times during the transfer`)
    })

    it('a 4 MiB binary argument crosses as MessagePack bin, intact', async () => {
      const data = new Uint8Array(4 << 20).map((_, i) => (i * 13) & 255)
      const back = await host.plugin(id).call<Uint8Array>('echo', [data])
      assert.ok(back instanceof Uint8Array)
      assert.ok(Buffer.from(back).equals(Buffer.from(data)))
    })
  })
}

describe('shm encoding', () => {
  it('MessagePack carries a Uint8Array as bin: no base64, about its own size', () => {
    const data = new Uint8Array(1 << 20)
    const encoded = msgpackCodec.encode({ jsonrpc: '2.0', id: 1, method: 'echo', params: [data] })
    assert.ok(encoded.byteLength < data.byteLength + 64)
    const decoded = msgpackCodec.decode(encoded) as { params: [Uint8Array] }
    assert.equal(decoded.params[0].buffer, encoded.buffer, 'the decoded bytes are a view over the received message, not a copy')
  })
})

export type { Channel }
