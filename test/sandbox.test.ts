/**
 * The host decides the sandbox (docs/confinement.md): a kernel without the Landlock rules a plugin
 * needs refuses it with SANDBOX_UNAVAILABLE naming them, unless the application opts out; and
 * `limits.memoryMb` binds an exec plugin's address space.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import type { Manifest } from '../src/manifest/schema.js'
import { checkSandbox, landlockAbi, launcherPath, LAUNCHER_REFUSED, neededAbi, sandboxCommand, sandboxRefusal, unenforcedRules } from '../src/placement/sandbox.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { probeKinds, writeProbePlugin } from './support/escape-plugins.js'
import { requires, tools } from './support/requires.js'

const manifest = { id: 'needs-all', version: '1.0.0', kind: 'exec', entry: 'x', placement: 'process' } as unknown as Manifest

describe('the sandbox is decided by the host', () => {
  it('this kernel enforces every rule polyplug applies (Landlock ABI >= 6)', { skip: process.platform !== 'linux' ? 'Linux only' : false }, () => {
    assert.ok(landlockAbi() >= 6, `Landlock ABI ${landlockAbi()}`)
    assert.deepEqual(unenforcedRules(), [])
  })

  it('on an older kernel a plugin is refused with SANDBOX_UNAVAILABLE naming the rules it would lack', () => {
    assert.throws(
      () => checkSandbox('needs-all', manifest, {}, 3),
      (error: unknown) => {
        assert.ok(error instanceof PolyplugError)
        assert.equal(error.code, 'SANDBOX_UNAVAILABLE')
        assert.equal(error.plugin, 'needs-all')
        assert.deepEqual((error.data as { unenforced: string[] }).unenforced, ['net.tcp', 'fs.ioctl-dev', 'scope.signal', 'scope.abstract-unix'])
        assert.match(error.message, /sandbox\.allowUnenforced/)
        return true
      },
    )
  })

  it('the application opts out explicitly: rule by rule, or entirely', () => {
    assert.throws(() => checkSandbox('needs-all', manifest, { allowUnenforced: ['net.tcp'] }, 5), /scope\.signal/)
    assert.doesNotThrow(() => checkSandbox('needs-all', manifest, { allowUnenforced: ['scope.signal', 'scope.abstract-unix'] }, 5))
    assert.doesNotThrow(() => checkSandbox('needs-all', manifest, { allowUnenforced: true }, 0))
  })

  it('a manifest granting any connect and listening does not need the TCP rules', () => {
    const open = { ...manifest, permissions: { network: { connect: ['*'], listen: true } } } as unknown as Manifest
    assert.throws(
      () => checkSandbox('open-net', open, {}, 3),
      (error: PolyplugError) => !(error.data as { unenforced: string[] }).unenforced.includes('net.tcp'),
    )
    assert.doesNotThrow(() => checkSandbox('open-net', open, { allowUnenforced: ['fs.ioctl-dev', 'scope.signal', 'scope.abstract-unix'] }, 3))
  })
})

describe('the launcher checks the kernel\'s Landlock ABI itself (no process of the host\'s own to ask it)', () => {
  it('the ABI a plugin needs follows its rules and what the application allows unenforced, and goes on the launcher\'s command line', () => {
    assert.equal(neededAbi(manifest), 6)
    assert.equal(neededAbi(manifest, { allowUnenforced: ['scope.signal', 'scope.abstract-unix'] }), 5)
    assert.equal(neededAbi(manifest, { allowUnenforced: ['net.tcp', 'fs.ioctl-dev', 'scope.signal', 'scope.abstract-unix'] }), 3)
    assert.equal(neededAbi(manifest, { allowUnenforced: true }), 0)
    const command = sandboxCommand({ manifest, dir: '/tmp', cwd: '/tmp', argv: ['/bin/true'], needAbi: 6 })
    assert.deepEqual(command.slice(command.indexOf('--need-abi'), command.indexOf('--need-abi') + 2), ['--need-abi', '6'])
    assert.ok(!sandboxCommand({ manifest, dir: '/tmp', cwd: '/tmp', argv: ['/bin/true'], needAbi: 0 }).includes('--need-abi'))
  })

  it('a kernel below that ABI: the launcher refuses before the plugin runs, and the host names the rules as it would have', { skip: landlockAbi() < 1 ? 'needs the sandbox launcher' : false }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-refuse-'))
    try {
      const marker = join(dir, 'ran')
      const run = spawnSync(launcherPath, ['--need-abi', '99', '--', '/bin/sh', '-c', `touch ${marker}`], { encoding: 'utf8' })
      assert.equal(run.status, LAUNCHER_REFUSED)
      assert.match(run.stderr, new RegExp(`^polyplug-launch: Landlock ABI ${landlockAbi()}, needs 99$`, 'm'))
      assert.throws(() => rmSync(marker), /ENOENT/, 'the plugin never ran')
      // What the host makes of the same refusal on an ABI 3 kernel: the error checkSandbox gives for ABI 3.
      const refused = sandboxRefusal('needs-all', manifest, {}, LAUNCHER_REFUSED, 'polyplug-launch: Landlock ABI 3, needs 6')
      assert.ok(refused instanceof PolyplugError)
      assert.equal(refused.code, 'SANDBOX_UNAVAILABLE')
      assert.equal(refused.plugin, 'needs-all')
      assert.deepEqual((refused.data as { unenforced: string[] }).unenforced, ['net.tcp', 'fs.ioctl-dev', 'scope.signal', 'scope.abstract-unix'])
      assert.throws(() => checkSandbox('needs-all', manifest, {}, 3), (error: PolyplugError) => error.message === refused.message)
      // Any other exit is the plugin's own: a crash, not a refusal.
      assert.equal(sandboxRefusal('needs-all', manifest, {}, 126, 'polyplug-launch: Landlock ABI 3, needs 6'), undefined)
      assert.equal(sandboxRefusal('needs-all', manifest, {}, LAUNCHER_REFUSED, 'Landlock ABI 3 (printed by the plugin)'), undefined)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('limits.memoryMb binds an exec plugin (RLIMIT_AS)', { skip: requires(tools.python3) || (landlockAbi() < 1 ? 'needs the sandbox launcher' : false) }, () => {
  it('allocating past the limit fails inside the plugin; below it works', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'sandbox-memory-'))
    const python = probeKinds.find((k) => k.slug === 'python')!
    const id = writeProbePlugin(parent, { ...python, manifest: { ...python.manifest, limits: { memoryMb: 128 } } }, 'memory', {})
    const host = await createHost({ plugins: [parent], logger: silentLogger })
    try {
      assert.equal(await host.plugin(id).call('probe', ['allocate', '16']), 'allowed')
      assert.match(await host.plugin(id).call<string>('probe', ['allocate', '256']), /^blocked/)
    } finally {
      await host.close()
      rmSync(parent, { recursive: true, force: true })
    }
  })
})

describe('a script as the command may run programs only when it is a shell script', { skip: requires(tools.python3) || (landlockAbi() < 1 ? 'needs the sandbox launcher' : false) }, () => {
  /** Runs `script` (a fresh file with this `#!` line and body) under the launcher as polyplug would start it. */
  function launch(line: string, body: string, path = process.env.PATH ?? ''): { status: number | null; stdout: string } {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-script-'))
    try {
      const script = join(dir, 'plugin')
      writeFileSync(script, `#!${line}\n${body}`, { mode: 0o755 })
      const argv = sandboxCommand({ manifest, dir, cwd: dir, argv: [script], path })
      const result = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: 'utf8', env: { PATH: path } })
      return { status: result.status, stdout: result.stdout }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const trySpawn = 'import subprocess\ntry:\n    subprocess.run(["/bin/echo"], check=True, stdout=subprocess.DEVNULL)\n    print("allowed")\nexcept OSError as e:\n    print("blocked", e.errno)\n'

  it('a #!/usr/bin/python3 script cannot spawn (its interpreter runs no other program)', () => {
    assert.deepEqual(launch('/usr/bin/python3', trySpawn), { status: 0, stdout: 'blocked 13\n' })
  })

  it('a #!/usr/bin/env python3 script cannot spawn either, when python3 on PATH is no shell script', () => {
    assert.deepEqual(launch('/usr/bin/env python3', trySpawn, '/usr/bin:/bin'), { status: 0, stdout: 'blocked 13\n' })
  })

  it('a #!/usr/bin/env python3 script whose python3 is a shell script (a pyenv shim) gets the program folders', () => {
    const shims = mkdtempSync(join(tmpdir(), 'sandbox-shim-'))
    try {
      writeFileSync(join(shims, 'python3'), '#!/bin/sh\nexec /usr/bin/python3 "$@"\n', { mode: 0o755 })
      assert.deepEqual(launch('/usr/bin/env python3', trySpawn, `${shims}:/usr/bin:/bin`), { status: 0, stdout: 'allowed\n' })
    } finally {
      rmSync(shims, { recursive: true, force: true })
    }
  })

  it('a #!/bin/sh script gets the program folders (docs/confinement.md, Limits)', () => {
    assert.deepEqual(launch('/bin/sh', '/bin/echo allowed\n'), { status: 0, stdout: 'allowed\n' })
  })
})

