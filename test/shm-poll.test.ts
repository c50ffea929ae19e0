/**
 * Waiting for the answer on shm (docs/shm.md, "Waiting for the answer"): after a send the host
 * polls the inbound ring briefly with its wait flag clear, so a plugin that answers at once needs
 * no doorbell in either direction; SpinPolicy stops the polling while answers keep coming late,
 * and `spinMicros: 0` turns it off. Deterministic: the "plugin" here answers from inside the
 * doorbell the host rings, before the host's poll even starts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel } from '../src/channels/channel.js'
import { shmChannel, type Doorbell } from '../src/transports/shm/channel.js'
import { Ctl, initRegion, regionSize, RING_A, RING_B } from '../src/transports/shm/layout.js'
import { shmOptions } from '../src/transports/shm/options.js'
import { ringsFor } from '../src/transports/shm/ring.js'
import { MAX_SKIP, MISSES_TOLERATED, SpinPolicy } from '../src/transports/shm/spin-policy.js'
import { within } from './support/wait.js'

describe('SpinPolicy', () => {
  it('polls after every send while the answers come back within the poll', () => {
    const policy = new SpinPolicy(20)
    for (let i = 0; i < 100; i++) {
      assert.equal(policy.next(), 20)
      policy.caught()
    }
  })

  it('tolerates MISSES_TOLERATED misses in a row, then skips 1, 2, 4 … sends, at most MAX_SKIP; one catch restores every send', () => {
    const policy = new SpinPolicy(20)
    for (let miss = 1; miss < MISSES_TOLERATED; miss++) {
      assert.equal(policy.next(), 20, `poll after miss ${miss} still runs`)
      policy.missed()
      assert.equal(policy.skipping, 0)
    }
    const runs: number[] = []
    for (let miss = 0; miss < 12; miss++) {
      assert.equal(policy.next(), 20, `poll ${miss} runs`)
      policy.missed()
      runs.push(policy.skipping)
      while (policy.skipping > 0) assert.equal(policy.next(), 0)
    }
    assert.deepEqual(runs, [1, 2, 4, 8, 16, 32, 64, 128, MAX_SKIP, MAX_SKIP, MAX_SKIP, MAX_SKIP])
    assert.equal(policy.next(), 20)
    policy.caught()
    assert.equal(policy.next(), 20, 'a catch: the next send polls again')
    for (let miss = 1; miss < MISSES_TOLERATED; miss++) policy.missed()
    assert.equal(policy.skipping, 0, 'a new run of misses is tolerated again')
    policy.missed()
    assert.equal(policy.skipping, 1, 'and then starts over at one')
  })

  it('a catch inside a run of misses starts the count again', () => {
    const policy = new SpinPolicy(20)
    for (let round = 0; round < 50; round++) {
      for (let miss = 1; miss < MISSES_TOLERATED; miss++) policy.missed()
      policy.caught()
      assert.equal(policy.next(), 20)
    }
  })

  it('never polls with a budget of 0', () => {
    const policy = new SpinPolicy(0)
    for (let i = 0; i < 10; i++) assert.equal(policy.next(), 0)
  })
})

/**
 * A host channel over a worker-style region whose doorbell to the plugin answers every request at
 * once, from inside `ring()`: the plugin is "asleep" (its wait flag set) before each send, so the
 * host rings it, and the answer is in ring B before `send` returns.
 */
function instantPlugin(spinMicros?: number) {
  const buffer = new SharedArrayBuffer(regionSize(4096))
  initRegion(buffer, 4096)
  const plugin = ringsFor('plugin', buffer, 4096, { maxMessageBytes: 4096 })
  const ringA = new Int32Array(buffer, RING_A, 32)
  const ringB = new Int32Array(buffer, RING_B, 32)
  const seen = { hostWaitingAtAnswer: [] as boolean[], wakes: 0 }
  let wake: (() => void) | undefined
  const doorbell: Doorbell = {
    ring() {
      const request = plugin.reader.read()
      if (!request) return
      plugin.writer.begin(request)
      plugin.writer.pump()
      // What a plugin does after publishing: ring the host only if it sleeps.
      const hostWaiting = plugin.writer.takeConsumerWaiting()
      seen.hostWaitingAtAnswer.push(hostWaiting)
      if (hostWaiting) queueMicrotask(() => wake?.())
    },
    start(onWake) {
      wake = () => {
        seen.wakes++
        onWake()
      }
      onWake()
    },
    close() {},
  }
  const host: Channel = shmChannel({ role: 'host', buffer, doorbell, ...(spinMicros === undefined ? {} : { spinMicros }) })
  const sleepPlugin = () => Atomics.store(ringA, Ctl.consumerWaiting, 1)
  return { host, seen, sleepPlugin, hostWaiting: () => Atomics.load(ringB, Ctl.consumerWaiting) === 1 }
}

async function roundTrip(pair: ReturnType<typeof instantPlugin>, value: number): Promise<number> {
  const answer = new Promise<number>((resolve) => {
    const off = pair.host.onMessage((message) => {
      off()
      resolve((message as Uint8Array)[0]!)
    })
  })
  pair.sleepPlugin()
  await pair.host.send(new Uint8Array([value]))
  return within(answer, `the answer to ${value}`)
}

describe('shm: the host polls for the answer after a send', () => {
  it('by default its wait flag is clear when the answer lands, so the plugin never rings it', async () => {
    const pair = instantPlugin()
    assert.equal(pair.hostWaiting(), true, 'idle, the host sleeps on its doorbell')
    for (let i = 1; i <= 20; i++) assert.equal(await roundTrip(pair, i), i)
    assert.deepEqual(pair.seen.hostWaitingAtAnswer, Array(20).fill(false))
    assert.equal(pair.seen.wakes, 0, 'no answer came through the doorbell')
    assert.equal(pair.hostWaiting(), true, 'after the poll the host sleeps on its doorbell again')
    await pair.host.close()
  })

  it('with spinMicros 0 it sleeps at once: every answer rings the host and arrives through the doorbell', async () => {
    const pair = instantPlugin(0)
    for (let i = 1; i <= 20; i++) assert.equal(await roundTrip(pair, i), i)
    assert.deepEqual(pair.seen.hostWaitingAtAnswer, Array(20).fill(true))
    assert.equal(pair.seen.wakes, 20)
    await pair.host.close()
  })
})

describe('shm transportOptions.spinMicros', () => {
  it('absent is the default (the host polls briefly, the plugin does not); 0 is "never poll"', () => {
    assert.deepEqual(shmOptions(undefined), {})
    assert.deepEqual(shmOptions({}), {})
    assert.deepEqual(shmOptions({ spinMicros: 0 }), { spinMicros: 0 })
  })
})
