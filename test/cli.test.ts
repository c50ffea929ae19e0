import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { cliPath, examplesDir, fixturesDir, root } from './support/paths.js'

const exec = promisify(execFile)

async function polyplug(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cliPath, ...args])
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('polyplug CLI', () => {
  it('--version prints the package version; help and --help print the usage, exit 0', async () => {
    const version = await polyplug('--version')
    assert.deepEqual([version.code, version.stdout, version.stderr], [0, `${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`, ''])
    for (const flag of ['help', '--help']) {
      const help = await polyplug(flag)
      assert.equal(help.code, 0)
      assert.match(help.stdout, /polyplug kit NAME DIR/)
    }
  })

  it('kit copies a plugin kit into a folder, without build outputs, and refuses to overwrite', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'polyplug-kit-')), 'plugin')
    try {
      const copied = await polyplug('kit', 'python', dir)
      assert.equal(copied.code, 0, copied.stderr)
      assert.deepEqual((await readdir(dir)).sort(), ['polyplug.py', 'polyplug_http.py', 'polyplug_shm.py', 'polyplug_stream.py', 'polyplug_ws.py'])
      const again = await polyplug('kit', 'python', dir)
      assert.equal(again.code, 2)
      assert.match(again.stderr, /exists; pass --force/)
      const rust = await polyplug('kit', 'rust', join(dir, 'rs'))
      assert.equal(rust.code, 0, rust.stderr)
      assert.deepEqual((await readdir(join(dir, 'rs'))).sort(), ['.cargo', 'README.md', 'src']) // .cargo: serde_json from Debian's crate directory
      assert.equal((await polyplug('kit', 'cobol', dir)).code, 2)
    } finally {
      await rm(dirname(dir), { recursive: true, force: true })
    }
  })

  it('list --json prints every plugin with id, version, kind, placement, transport, entry and status', async () => {
    const { code, stdout } = await polyplug('list', '--plugins', examplesDir, '--json')
    assert.equal(code, 0)
    const rows = JSON.parse(stdout) as Record<string, string>[]
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]))
    assert.deepEqual(
      { ...byId['echo-worker'], dir: undefined },
      { id: 'echo-worker', version: '1.0.0', kind: 'js', placement: 'worker', transport: 'port', entry: 'index.js', status: 'inactive', dir: undefined },
    )
    assert.equal(byId['echo-inline']?.placement, 'inline')
  })

  it('list shows invalid plugins with their error, and exits 1', async () => {
    const { code, stdout } = await polyplug('list', '--plugins', fixturesDir, '--json')
    assert.equal(code, 1)
    const invalid = (JSON.parse(stdout) as { status: string; error?: { code: string } }[]).filter((r) => r.status === 'invalid')
    assert.equal(invalid.length, 1)
    assert.equal(invalid[0]?.error?.code, 'MANIFEST_INVALID')
  })

  for (const id of ['echo-inline', 'echo-worker']) {
    it(`call ${id} echo prints the JSON result and exits 0`, async () => {
      const { code, stdout } = await polyplug('call', '--plugins', examplesDir, id, 'echo', '["hi"]')
      assert.equal(code, 0)
      assert.equal(stdout, '"hi"\n')
    })
  }

  it('call prints the error code and message on stderr and exits non-zero', async () => {
    const { code, stdout, stderr } = await polyplug('call', '--plugins', examplesDir, 'echo-worker', 'fail', '["E_BAD"]')
    assert.notEqual(code, 0)
    assert.equal(stdout, '')
    assert.match(stderr, /^E_BAD: failed on request with code E_BAD/)
  })

  it('call with an unknown plugin or bad PARAMS_JSON fails clearly', async () => {
    const missing = await polyplug('call', '--plugins', examplesDir, 'nope', 'echo')
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /PLUGIN_NOT_FOUND/)
    const bad = await polyplug('call', '--plugins', examplesDir, 'echo-inline', 'echo', '{"not":"array"}')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /JSON array/)
  })

  it('validate accepts a good plugin and lists field-level errors for a bad one', async () => {
    const good = await polyplug('validate', `${examplesDir}/js-worker`)
    assert.equal(good.code, 0)
    assert.match(good.stdout, /ok: echo-worker@1\.0\.0/)
    const bad = await polyplug('validate', `${fixturesDir}/invalid-manifest`)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /\/kind: expected one of "js", "wasm", "native", "exec", "python", found "cobol"/)
    assert.match(bad.stderr, /\/colour: expected no such field/)
  })
})

describe('polyplug CLI: host commands', () => {
  const app = `${fixturesDir}/host/app`

  it('commands --json lists contributed commands without running plugin code', async () => {
    const { code, stdout } = await polyplug('commands', '--plugins', app, '--json')
    assert.equal(code, 0)
    const ids = (JSON.parse(stdout) as { id: string; plugin: string }[]).map((c) => `${c.plugin}:${c.id}`).sort()
    assert.deepEqual(ids, ['lazy:lazy.never', 'ui:ui.greet'])
  })

  it('list and commands start nothing, not even onStartup plugins', async () => {
    const { code, stdout } = await polyplug('list', '--plugins', app, '--json')
    assert.equal(code, 0)
    const statuses = Object.fromEntries((JSON.parse(stdout) as { id: string; status: string }[]).map((p) => [p.id, p.status]))
    assert.equal(statuses.starter, 'inactive', 'starter asks for onStartup; listing must not start it')
  })

  it('exec runs a command, activating its plugin and dependencies', async () => {
    const { code, stdout, stderr } = await polyplug('exec', '--plugins', app, 'ui.greet', '["cli"]')
    assert.equal(code, 0, stderr)
    assert.equal(stdout, '"hello cli"\n')
    const missing = await polyplug('exec', '--plugins', app, 'no.such')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^COMMAND_NOT_FOUND/)
  })

  it('list --json shows unavailable plugins with their resolution error', async () => {
    const { code, stdout } = await polyplug('list', '--plugins', `${fixturesDir}/host/resolution`, '--json')
    assert.equal(code, 0)
    const rows = JSON.parse(stdout) as { id: string; status: string; error?: { code: string } }[]
    const cycle = rows.find((r) => r.id === 'cycle-a')
    assert.equal(cycle?.status, 'unavailable')
    assert.equal(cycle?.error?.code, 'DEPENDENCY_CYCLE')
    assert.equal(rows.find((r) => r.id === 'base')?.status, 'inactive')
  })
})

describe('polyplug CLI: status', () => {
  it('status --json prints host.stats() after start-up and an optional command', async () => {
    const { code, stdout } = await polyplug('status', '--plugins', `${fixturesDir}/host/app`, '--json', 'ui.greet')
    assert.equal(code, 0)
    const byId = Object.fromEntries((JSON.parse(stdout) as { id: string; status: string; activationReason?: string; calls: number }[]).map((s) => [s.id, s]))
    assert.equal(byId.starter?.activationReason, 'onStartup')
    assert.equal(byId.ui?.activationReason, 'onCommand:ui.greet')
    assert.equal(byId.ui?.calls, 1)
    assert.equal(byId.core?.activationReason, 'onDependent')
    assert.equal(byId.lazy?.status, 'inactive')
  })
})
