/**
 * Process plugins die with their host, always (docs/confinement.md, "Lifetime"): each leads a
 * process group of its own, signalled whole on stop and on close; when the host is SIGKILLed the
 * launcher's PR_SET_PDEATHSIG kills the plugin and its watchdog kills the rest of the group:
 * grandchildren and native carriers in the middle of a call included.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { landlockAbi } from '../src/placement/sandbox.js'
import { PATIENCE_MS, until } from './support/wait.js'
import { probeKinds, writeProbePlugin } from './support/escape-plugins.js'
import { examplesDir, root } from './support/paths.js'
import { requires, tools } from './support/requires.js'

/** State and process group of a process, or undefined when it is gone. */
function stat(pid: number | string): { state: string; pgrp: number } | undefined {
  try {
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its closing parenthesis
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] as string, pgrp: Number(fields[2]) }
  } catch {
    return undefined
  }
}

/** Whether a process still runs: a zombie has died (it waits only for its parent to reap it). */
const running = (pid: number) => {
  const s = stat(pid)
  return s !== undefined && s.state !== 'Z' && s.state !== 'X'
}

/** Every running process whose process group is one of `groups` (a plugin leads its own group). */
function groupMembers(groups: readonly number[]): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => groups.includes(stat(pid)?.pgrp ?? -1) && running(pid))
}

const kind = (slug: string) => probeKinds.find((k) => k.slug === slug)!

describe('process plugins die with their host', { skip: requires(tools.python3, tools.gcc, tools.jansson, tools.cargo, tools.serdeJson) || (landlockAbi() < 1 ? 'needs the sandbox launcher (Landlock)' : false) }, () => {
  let parent: string
  const ids: Record<string, string> = {}

  before(() => {
    parent = mkdtempSync(join(tmpdir(), 'host-death-'))
    for (const slug of ['python', 'js', 'shm', 'c']) ids[slug] = writeProbePlugin(parent, kind(slug), 'spawner', { process: true })
  })
  after(() => rmSync(parent, { recursive: true, force: true }))

  it('SIGKILL of the host leaves no process of any plugin after 1 s: grandchildren and a native call in flight included', async () => {
    const spec = {
      dirs: [parent, examplesDir],
      activate: [ids.python, ids.js, ids.shm, ids.c, 'native-c-process', 'native-rust-process'],
      grandchildren: [ids.python, ids.js, ids.shm].map((id) => [id, 'probe', ['sleeper', '']]),
      busy: [
        ['native-c-process', 'sleep', [30_000]],
        ['native-rust-process', 'sleep', [30_000]],
      ],
    }
    const child = spawn(process.execPath, [`${root}dist/test/support/host-child.js`, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve)
      child.once('exit', () => reject(new Error('host child exited early')))
    })
    const { plugins, grandchildren } = JSON.parse(line) as { plugins: number[]; grandchildren: number[] }
    assert.equal(plugins.length, 6)
    assert.equal(grandchildren.length, 3)
    for (const pid of [...plugins, ...grandchildren]) assert.ok(running(pid), `${pid} runs before the host dies`)
    // Each group also holds the plugin's watchdog: more members than plugins plus grandchildren.
    assert.ok(groupMembers(plugins).length >= plugins.length * 2 + grandchildren.length)
    child.kill('SIGKILL')
    const survivors = () => [...groupMembers(plugins), ...grandchildren.filter(running)]
    // Nobody else kills them: they go by themselves, or the wait names the survivors.
    await until(() => survivors().length === 0, 0, 'no process of any plugin left').catch(() => {
      const left = survivors().map((pid) => `${pid} (state ${stat(pid)?.state})`)
      assert.fail(`still running ${PATIENCE_MS} ms after the host was killed: ${left.join('; ')}`)
    })
  })

  it('stop and close signal the whole group: a grandchild dies with its plugin', async () => {
    const host = await createHost({ plugins: [parent], logger: silentLogger })
    try {
      const stopped = Number(await host.plugin(ids.python as string).call('probe', ['sleeper', '']))
      const closed = [Number(await host.plugin(ids.js as string).call('probe', ['sleeper', ''])), Number(await host.plugin(ids.shm as string).call('probe', ['sleeper', '']))]
      assert.ok(running(stopped) && closed.every(running))
      await host.plugin(ids.python as string).stop()
      await until(() => !running(stopped))
      await host.close()
      await until(() => closed.every((pid) => !running(pid)))
    } finally {
      await host.close()
    }
  })
})
