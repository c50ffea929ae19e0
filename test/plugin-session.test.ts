/**
 * A process plugin leads a process group of its own (stop and close signal it whole:
 * host-death.test.ts) inside the host's session, not a session of its own: with autogroup
 * scheduling, Linux's default, a new session is a new scheduling group, and every round trip with
 * the host waited on the scheduler (docs/performance.md, "Round seven: one session"). In the
 * host's session it would share the host's controlling terminal: the launcher gives it up, so a
 * plugin cannot open /dev/tty (and inject input into the user's shell with TIOCSTI).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { landlockAbi, launcherPath } from '../src/placement/sandbox.js'
import { probeKinds, writeProbePlugin } from './support/escape-plugins.js'
import { requires, tools } from './support/requires.js'

/** Process group and session of a process (fields 5 and 6 of /proc/PID/stat). */
function ids(pid: number | 'self'): { pgrp: number; session: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { pgrp: Number(fields[2]), session: Number(fields[3]) }
}

const noLauncher = process.platform !== 'linux' || landlockAbi() < 1 ? 'needs the sandbox launcher (Linux, Landlock)' : false

describe('a process plugin runs in the host session, in a group of its own', { skip: noLauncher }, () => {
  let parent: string
  let id: string

  before(() => {
    parent = mkdtempSync(join(tmpdir(), 'plugin-session-'))
    id = writeProbePlugin(parent, probeKinds.find((k) => k.slug === 'js')!, 'session', { process: true })
  })
  after(() => rmSync(parent, { recursive: true, force: true }))

  it("a plugin's child is in the plugin's group, which is not the host's, and in the host's session", async () => {
    const host = await createHost({ plugins: [parent], logger: silentLogger })
    try {
      const child = Number(await host.plugin(id).call('probe', ['sleeper', '']))
      const { pgrp, session } = ids(child)
      assert.notEqual(pgrp, ids('self').pgrp, 'the plugin leads a group of its own')
      assert.equal(ids(pgrp).pgrp, pgrp, 'the group is led by a running process (the plugin)')
      assert.equal(session, ids('self').session, "the host's session, not a new one")
    } finally {
      await host.close()
    }
  })
})

describe('the launcher gives up the controlling terminal', { skip: noLauncher || requires(tools.script) }, () => {
  // script(1) runs a shell leading a new session with a pseudo-terminal as its controlling
  // terminal; the shell forks the command (`; :` keeps it from exec'ing it), which so shares the
  // terminal as a plugin shares its host's.
  const underTerminal = (argv: string[]) => {
    const probe = 'if (: 3<>/dev/tty) 2>/dev/null; then echo has-terminal; else echo no-terminal; fi'
    const command = `${[...argv, '/bin/sh', '-c', probe].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}; :`
    const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { encoding: 'utf8' })
    assert.equal(result.status, 0, result.stderr)
    return result.stdout
  }

  it('a program started without the launcher opens /dev/tty (the probe can tell)', () => {
    assert.match(underTerminal([]), /has-terminal/)
  })

  it('a program started by the launcher cannot, /dev writable or not', () => {
    assert.match(underTerminal([launcherPath, '--read', '/', '--write', '/dev', '--']), /no-terminal/)
  })
})
