/**
 * The host decides the sandbox (docs/confinement.md): a kernel without the Landlock rules a plugin
 * needs refuses it with SANDBOX_UNAVAILABLE naming them, unless the application opts out; and
 * `limits.memoryMb` binds an exec plugin's address space.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import type { Manifest } from '../src/manifest/schema.js'
import { checkSandbox, landlockAbi, unenforcedRules } from '../src/placement/sandbox.js'
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
