/**
 * Sidecars as they fail in practice: never answering, wrong token, garbage on the wire, crashes
 * with calls in flight, hangs, crash loops, stray prints, and a host killed with SIGKILL.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { createHost, type Host, type HostOptions } from '../src/host/host.js'
import type { LogEntry } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'
import { fixturesDir, root } from './support/paths.js'
import { alive } from './support/process.js'

const sidecars = `${fixturesDir}/sidecar`

async function withHost(options: Partial<HostOptions>, body: (host: Host, logs: LogEntry[]) => Promise<void>): Promise<void> {
  const logs: LogEntry[] = []
  const host = await createHost({ plugins: [sidecars], logger: (e) => logs.push(e), ...options })
  try {
    await body(host, logs)
  } finally {
    await host.close()
  }
}


function pidFromLogs(logs: LogEntry[], plugin: string): number | undefined {
  const line = logs.find((e) => e.plugin === plugin && e.message.startsWith('pid='))
  return line ? Number(line.message.slice(4)) : undefined
}

describe('sidecar start-up', () => {
  for (const [id, transport] of [['sidecar-silent', 'stdio'], ['sidecar-no-connect', 'unix']]) {
    it(`a plugin that never completes the handshake (${transport}) fails with PLUGIN_START_TIMEOUT and is killed`, async () => {
      // The python fixture must log its pid before the deadline: python took up to several seconds to start under load.
      await withHost({ startTimeoutMs: 8000 }, async (host, logs) => {
        const error = await rejectsWithCode(host.plugin(id as string).call('anything'), 'PLUGIN_START_TIMEOUT')
        assert.equal(error.plugin, id)
        const pid = pidFromLogs(logs, id as string)
        assert.ok(pid, 'the fixture logged its pid through stderr capture')
        await until(() => !alive(pid), 15_000, 'the fixture was killed')
        assert.equal(host.plugin(id as string).info().status, 'failed')
      })
    })
  }

  it('a command that cannot be started fails with PLUGIN_UNAVAILABLE and leaves nothing behind', async () => {
    await withHost({}, async (host) => {
      await rejectsWithCode(host.plugin('sidecar-missing-command').call('x'), 'PLUGIN_UNAVAILABLE')
      assert.equal(host.plugin('sidecar-missing-command').info().status, 'failed')
    })
  })

  it('a plugin that exits at every start is reported with its exit code, then quarantined', async () => {
    await withHost({ restart: { maxCrashes: 2, baseDelayMs: 20 } }, async (host) => {
      const plugin = host.plugin('sidecar-exits-at-once')
      for (let i = 0; i < 3; i++) {
        const error = await rejectsWithCode(plugin.call('x'), 'PLUGIN_CRASHED')
        assert.deepEqual(error.data, { exitCode: 5, signal: null })
      }
      await rejectsWithCode(plugin.call('x'), 'PLUGIN_QUARANTINED')
    })
  })

  it('a plugin that answers $/hello with the wrong token gets PERMISSION_DENIED and is never served', async () => {
    await withHost({}, async (host) => {
      await rejectsWithCode(host.plugin('sidecar-bad-token').call('secret'), 'PERMISSION_DENIED')
    })
  })
})

describe('garbage from a real process closes its channel, not the host', () => {
  for (const [id, code] of [['sidecar-garbage-length', 'FRAME_TOO_LARGE'], ['sidecar-garbage-header', 'FRAME_INVALID']]) {
    it(`${id}: ${code}`, async () => {
      await withHost({}, async (host, logs) => {
        await rejectsWithCode(host.plugin(id as string).call('x'), code as string)
        const pid = pidFromLogs(logs, id as string)
        if (pid) await until(() => !alive(pid), 15_000)
      })
    })
  }
})

describe('stdio: a stray print in plugin code', () => {
  for (const id of ['sidecar-stray-print', 'sidecar-py-noisy']) {
    it(`${id}: goes to the host log, tagged with the plugin id, and the channel is unharmed`, async () => {
      await withHost({}, async (host, logs) => {
        assert.equal(await host.plugin(id).call('noisy'), 'still fine')
        await until(() => logs.filter((e) => e.plugin === id && e.message.startsWith('stray')).length === 2)
        assert.equal(await host.plugin(id).call('noisy'), 'still fine')
      })
    })
  }
})

describe('supervisor', () => {
  it('a crash rejects every in-flight call at once with PLUGIN_CRASHED and the exit code', async () => {
    await withHost({}, async (host) => {
      const plugin = host.plugin('sidecar-crashy')
      const pid = await plugin.call<number>('pid')
      // One channel, in order: the plugin has all three waits before it reads the crash.
      const inflight = [plugin.call('wait'), plugin.call('wait'), plugin.call('wait')]
      // PLUGIN_CRASHED is the proof: the 30 s call deadline would end them with RPC_TIMEOUT.
      await rejectsWithCode(plugin.call('crash'), 'PLUGIN_CRASHED')
      for (const call of inflight) await rejectsWithCode(call, 'PLUGIN_CRASHED')
      const crash = await rejectsWithCode(plugin.call('crash'), 'PLUGIN_CRASHED')
      assert.deepEqual(crash.data, { exitCode: 3, signal: null })
      assert.ok(!alive(pid))
    })
  })

  it('a hung plugin is killed after its heartbeat goes unanswered, and the next call restarts it', async () => {
    await withHost({ pingTimeoutMs: 300 }, async (host) => {
      const plugin = host.plugin('sidecar-hang')
      const pid = await plugin.call<number>('pid')
      await rejectsWithCode(plugin.call('spin', [], { timeout: 200 }), 'RPC_TIMEOUT')
      await until(() => !alive(pid), 15_000)
      const next = await plugin.call<number>('pid')
      assert.notEqual(next, pid)
    })
  })

  it('a plugin that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    await withHost({ pingTimeoutMs: 300 }, async (host) => {
      const plugin = host.plugin('sidecar-stubborn')
      const pid = await plugin.call<number>('pid')
      await rejectsWithCode(plugin.call('freeze', [], { timeout: 200 }), 'RPC_TIMEOUT')
      await until(() => !alive(pid), 10_000)
    })
  })

  it('restarts with growing backoff, quarantines a crash loop, and reset re-enables it', async () => {
    await withHost({ restart: { maxCrashes: 2, baseDelayMs: 150, windowMs: 60_000 } }, async (host) => {
      const plugin = host.plugin('sidecar-crashy')
      await rejectsWithCode(plugin.call('crash'), 'PLUGIN_CRASHED')
      await rejectsWithCode(plugin.call('crash'), 'PLUGIN_CRASHED') // restarted after >= 150 ms
      const t0 = Date.now()
      await plugin.call('pid') // second backoff: >= 300 ms after the crash
      assert.ok(Date.now() - t0 >= 200, 'the restart waited for its backoff')
      await rejectsWithCode(plugin.call('crash'), 'PLUGIN_CRASHED') // third crash within the window
      await rejectsWithCode(plugin.call('pid'), 'PLUGIN_QUARANTINED')
      assert.equal(plugin.info().status, 'failed')
      plugin.reset()
      assert.equal(typeof (await plugin.call('pid')), 'number')
    })
  })
})

describe('no orphans', () => {
  it('sidecars exit when their host is killed with SIGKILL', async () => {
    const child = spawn(process.execPath, [`${root}dist/test/support/host-child.js`, 'echo-process-stdio', 'echo-process-tcp', 'python-unix', 'python-fifo'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve)
      child.once('exit', () => reject(new Error('host child exited early')))
    })
    const pids = JSON.parse(line) as number[]
    assert.equal(pids.length, 4)
    for (const pid of pids) assert.ok(alive(pid))
    child.kill('SIGKILL')
    await until(() => pids.every((pid) => !alive(pid)), 10_000)
  })
})
