/**
 * Confinement of sidecars with real processes (docs/confinement.md): a Node carrier under Node's
 * permission model derived from its manifest's grants, and the environment and private working
 * directory every sidecar gets, Node or not.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { nodePermissionArgs, permissionFlag, resolveArgv, sidecarEnv } from '../src/placement/confine.js'
import type { Manifest } from '../src/manifest/schema.js'
import { rejectsWithCode } from './support/assert-code.js'
import { fixturesDir } from './support/paths.js'

const probeDir = `${fixturesDir}/confine/probe`
const rwDir = `${probeDir}/rw`

describe('Node sidecars run under the permission model derived from their grants', () => {
  let host: Host
  let outside: string
  const saved = { secret: process.env.CONFINE_SECRET, granted: process.env.CONFINE_GRANTED }

  before(async () => {
    outside = mkdtempSync(join(tmpdir(), 'confine-outside-'))
    writeFileSync(join(outside, 'secret.txt'), 'not for plugins')
    // The read-write grant names a folder the plugin writes in; the test makes it and removes it.
    mkdirSync(rwDir, { recursive: true })
    process.env.CONFINE_SECRET = 'host-only secret'
    process.env.CONFINE_GRANTED = 'granted value'
    host = await createHost({ plugins: [`${fixturesDir}/confine`], logger: silentLogger })
  })

  after(async () => {
    await host.close()
    rmSync(outside, { recursive: true, force: true })
    rmSync(rwDir, { recursive: true, force: true })
    if (saved.secret === undefined) delete process.env.CONFINE_SECRET
    else process.env.CONFINE_SECRET = saved.secret
    if (saved.granted === undefined) delete process.env.CONFINE_GRANTED
    else process.env.CONFINE_GRANTED = saved.granted
  })

  it('this Node has a permission model flag', () => {
    assert.ok(permissionFlag(), `no permission flag on Node ${process.versions.node}`)
  })

  it('reads a granted file, and fails with PERMISSION_DENIED reading outside its grants', async () => {
    const probe = host.plugin('confine-probe')
    assert.equal(await probe.call('read', [`${probeDir}/granted/data.txt`]), 'granted content\n')
    const error = await rejectsWithCode(probe.call('read', [join(outside, 'secret.txt')]), 'PERMISSION_DENIED')
    assert.equal(error.plugin, 'confine-probe')
    assert.equal(error.method, 'read')
    assert.deepEqual(error.data, { permission: 'FileSystemRead', resource: join(outside, 'secret.txt') })
    // Neither the host's files nor its neighbours are readable: only what polyplug itself needs.
    await rejectsWithCode(probe.call('read', ['/etc/hostname']), 'PERMISSION_DENIED')
  })

  it('writes only where it is granted read-write', async () => {
    const probe = host.plugin('confine-probe')
    assert.equal(await probe.call('write', [`${rwDir}/out.txt`, 'written']), true)
    assert.equal(await probe.call('read', [`${rwDir}/out.txt`]), 'written')
    const error = await rejectsWithCode(probe.call('write', [`${probeDir}/granted/new.txt`, 'no']), 'PERMISSION_DENIED')
    assert.equal((error.data as { permission: string }).permission, 'FileSystemWrite')
    assert.equal(existsSync(`${probeDir}/granted/new.txt`), false)
    await rejectsWithCode(probe.call('write', [join(outside, 'new.txt'), 'no']), 'PERMISSION_DENIED')
  })

  it('starts no child process or worker without the process grant, and does with it', async () => {
    const probe = host.plugin('confine-probe')
    await rejectsWithCode(probe.call('spawn'), 'PERMISSION_DENIED')
    await rejectsWithCode(probe.call('worker'), 'PERMISSION_DENIED')
    const granted = host.plugin('confine-probe-process')
    assert.equal(await granted.call('spawn'), 'child ran')
    assert.equal(await granted.call('worker'), true)
  })

  it('sees a granted environment variable and not an ungranted one', async () => {
    const probe = host.plugin('confine-probe')
    assert.equal(await probe.call('env', ['CONFINE_GRANTED']), 'granted value')
    assert.equal(await probe.call('env', ['CONFINE_SECRET']), null)
    const names = await probe.call<string[]>('envNames')
    const unexpected = names.filter((n) => !n.startsWith('POLYPLUG_') && n !== 'PATH' && n !== 'CONFINE_GRANTED')
    assert.deepEqual(unexpected, [])
    assert.ok(names.includes('POLYPLUG_TOKEN'))
  })

  it('runs in a private working directory (0700) that is removed when it stops', async () => {
    const probe = host.plugin('confine-probe')
    const cwd = await probe.call<string>('cwd')
    assert.notEqual(cwd, probeDir)
    assert.equal(statSync(cwd).mode & 0o777, 0o700)
    assert.equal(await probe.call('write', [join(cwd, 'scratch.txt'), 'mine']), true)
    await probe.stop()
    assert.equal(existsSync(cwd), false)
  })
})

describe('every sidecar gets the confined environment and working directory, Node or not', () => {
  it('a Python exec sidecar sees only PATH, its grants and the protocol variables, in a private folder', async () => {
    process.env.CONFINE_SECRET = 'host-only secret'
    process.env.CONFINE_GRANTED = 'granted value'
    const host = await createHost({ plugins: [`${fixturesDir}/confine/py-probe`], logger: silentLogger })
    try {
      const probe = host.plugin('confine-py-probe')
      assert.equal(await probe.call('env', ['CONFINE_GRANTED']), 'granted value')
      assert.equal(await probe.call('env', ['CONFINE_SECRET']), null)
      const names = await probe.call<string[]>('envNames')
      // The launcher may add its own (Python's LC_CTYPE coercion; a pyenv shim, a shell script, adds
      // PYENV_*, PWD, SHLVL, _): what must not be there is anything else the host has, like HOME.
      const launcherOwn = (n: string) => n.startsWith('PYENV_') || ['LC_CTYPE', 'PWD', 'OLDPWD', 'SHLVL', '_'].includes(n)
      const leaked = names.filter((n) => n in process.env && !n.startsWith('POLYPLUG_') && !['PATH', 'CONFINE_GRANTED'].includes(n) && !launcherOwn(n))
      assert.deepEqual(leaked, [])
      assert.equal(names.includes('HOME'), false)
      const cwd = await probe.call<string>('cwd')
      assert.equal(statSync(cwd).mode & 0o777, 0o700)
      await probe.stop()
      assert.equal(existsSync(cwd), false)
    } finally {
      await host.close()
      delete process.env.CONFINE_SECRET
      delete process.env.CONFINE_GRANTED
    }
  })
})

describe('confinement helpers', () => {
  const manifest = { id: 'm', version: '1.0.0', kind: 'js', entry: 'i.js', placement: 'process', transport: 'stdio', permissions: { env: ['A', 'MISSING'] } } as Manifest

  it('the environment holds PATH, granted variables the host has, and the protocol variables', () => {
    assert.deepEqual(sidecarEnv(manifest, { POLYPLUG_TOKEN: 't' }, { PATH: '/bin', A: '1', B: '2' }), { PATH: '/bin', A: '1', POLYPLUG_TOKEN: 't' })
  })

  it('one --allow-fs-read per path, child processes and workers only when granted', () => {
    const args = nodePermissionArgs({ read: ['/a,b', '/c'], write: ['/w'], childProcess: false, worker: false })
    assert.ok(args.includes('--allow-fs-read=/a,b') && args.includes('--allow-fs-read=/c') && args.includes('--allow-fs-write=/w'))
    assert.ok(!args.includes('--allow-child-process') && !args.includes('--allow-worker'))
    assert.ok(nodePermissionArgs({ read: [], write: [], childProcess: true, worker: true }).includes('--allow-child-process'))
  })

  it('argv paths that name files in the plugin folder become absolute; bare commands stay on PATH', () => {
    assert.deepEqual(resolveArgv(['python3', 'probe.py', '--stdio', 'nothing-here'], `${fixturesDir}/confine/py-probe`), [
      'python3',
      `${fixturesDir}/confine/py-probe/probe.py`,
      '--stdio',
      'nothing-here',
    ])
    assert.deepEqual(resolveArgv(['./run.sh'], '/plug'), ['/plug/run.sh'])
  })
})
