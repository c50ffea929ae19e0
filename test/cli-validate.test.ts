/**
 * `polyplug validate` checks that a sidecar's program can run — naming the fix: a #! line and
 * chmod +x, or `sidecar.command` — and takes a folder of plugins, reporting each; `polyplug list`
 * exits 1 when a plugin is invalid, still listing the valid ones.
 */
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { polyplug } from './support/cli.js'

const PY = 'import sys\nsys.exit(0)\n'

describe('polyplug validate: a sidecar\'s program must be able to run', () => {
  let work: string
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-validate-'))
  })
  after(() => rm(work, { recursive: true, force: true }))

  /** A plugin folder `id` with manifest fields `fields` and files `files` (path → [text, mode]). */
  async function plugin(id: string, fields: Record<string, unknown>, files: Record<string, [string, number]>, parent = work): Promise<string> {
    const dir = join(parent, id)
    await mkdir(dir, { recursive: true })
    for (const [name, [text, mode]] of Object.entries(files)) {
      await writeFile(join(dir, name), text)
      await chmod(join(dir, name), mode)
    }
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'exec', ...fields }))
    return dir
  }

  it('an entry run directly without the exec bit: chmod +x and a #! line, or its interpreter in sidecar.command', async () => {
    const dir = await plugin('no-exec-bit', { entry: 'main.py' }, { 'main.py': [`#!/usr/bin/env python3\n${PY}`, 0o644] })
    const { code, stderr } = await polyplug(['validate', dir])
    assert.equal(code, 1)
    assert.match(stderr, /\/entry: expected a program the OS can run \(there is no sidecar\.command, so the host executes entry itself\)/)
    assert.match(stderr, /chmod \+x main\.py and start it with a line such as #!\/usr\/bin\/env python3, or name its interpreter: "sidecar": \{"command": \["python3", "main\.py"\]\}/)
  })

  it('polyplug check stops at the same problem, with the same fix, before starting anything', async () => {
    const dir = await plugin('check-no-exec-bit', { entry: 'main.py' }, { 'main.py': [`#!/usr/bin/env python3\n${PY}`, 0o644] })
    const { code, stdout } = await polyplug(['check', dir])
    assert.equal(code, 1)
    assert.match(stdout, /✗ its program can run \(entry, sidecar\.command\)/)
    assert.match(stdout, /chmod \+x main\.py and start it with a line such as #!\/usr\/bin\/env python3/)
  })

  it('an executable entry that is a script without a #! line', async () => {
    const dir = await plugin('no-shebang', { entry: 'main.py' }, { 'main.py': [PY, 0o755] })
    const { code, stderr } = await polyplug(['validate', dir])
    assert.equal(code, 1)
    assert.match(stderr, /main\.py, which is neither a compiled program nor a script with a #! line: chmod \+x main\.py and start it with a line such as #!\/usr\/bin\/env python3/)
  })

  it('an executable script with its #! line, and an interpreter in sidecar.command, are valid', async () => {
    const direct = await plugin('runs-directly', { entry: 'main.py' }, { 'main.py': [`#!/usr/bin/env python3\n${PY}`, 0o755] })
    const viaCommand = await plugin('runs-via-command', { entry: 'main.py', sidecar: { command: ['sh', 'main.py'] } }, { 'main.py': [PY, 0o644] })
    for (const dir of [direct, viaCommand]) {
      const { code, stdout, stderr } = await polyplug(['validate', dir])
      assert.equal(code, 0, stderr)
      assert.match(stdout, /^ok: runs-/)
    }
  })

  it('a sidecar.command program that is not on PATH', async () => {
    const dir = await plugin('not-on-path', { entry: 'main.py', sidecar: { command: ['python3-polyplug-nonesuch', 'main.py'] } }, { 'main.py': [PY, 0o644] })
    const { code, stderr } = await polyplug(['validate', dir])
    assert.equal(code, 1)
    assert.match(stderr, /\/sidecar\/command\/0: expected a program on PATH, found "python3-polyplug-nonesuch", which is not on PATH: install it, or write its full path in sidecar\.command/)
  })

  it('a sidecar.command path that is not executable', async () => {
    const dir = await plugin('script-not-executable', { entry: 'main.py', sidecar: { command: ['./run.sh'] } }, { 'main.py': [PY, 0o644], 'run.sh': ['#!/bin/sh\nexec python3 main.py\n', 0o644] })
    const { code, stderr } = await polyplug(['validate', dir])
    assert.equal(code, 1)
    assert.match(stderr, /\/sidecar\/command\/0: expected an executable file, found run\.sh without the exec bit: chmod \+x run\.sh \(a script also needs a #! line\)/)
  })

  it('a program the declared build makes but has not made yet: run polyplug check, which builds it', async () => {
    const dir = await plugin(
      'not-built',
      { entry: 'plugin.c', sidecar: { command: ['./plugin'] }, build: { command: ['gcc', '-o', 'plugin', 'plugin.c'], outputs: ['plugin'] } },
      { 'plugin.c': ['int main(void) { return 0; }\n', 0o644] },
    )
    const { code, stderr } = await polyplug(['validate', dir])
    assert.equal(code, 1)
    assert.match(stderr, new RegExp(`/sidecar/command/0: expected an existing program, found "\\./plugin" \\(${join(dir, 'plugin')} does not exist\\): it is an output of the declared build, not built yet: \`polyplug check ${dir}\` builds it \\(gcc -o plugin plugin\\.c\\)`))
  })

  it('a folder of plugins: each is reported, the valid ones as ok, and the exit code is 1 when one is invalid', async () => {
    const folder = join(work, 'folder')
    await plugin('good', { entry: 'main.py', sidecar: { command: ['sh', 'main.py'] } }, { 'main.py': [PY, 0o644] }, folder)
    await plugin('bad-field', { entry: 'main.py', placment: 'process' }, { 'main.py': [PY, 0o755] }, folder)
    await plugin('bad-program', { entry: 'main.py' }, { 'main.py': [PY, 0o644] }, folder)
    const { code, stdout, stderr } = await polyplug(['validate', folder])
    assert.equal(code, 1)
    assert.match(stdout, /^ok: good@1\.0\.0 \(exec, process, stdio\)/m)
    assert.match(stdout, /^1 valid, 2 invalid$/m)
    assert.match(stderr, /bad-field\/polyplug\.json: invalid manifest\n {2}\/placment: expected no such field \(unknown property; did you mean "placement"\?\)/)
    assert.match(stderr, /bad-program\/polyplug\.json: invalid manifest\n {2}\/entry: expected a program the OS can run/)
  })

  it('a folder with no plugin in it, or a path that is no folder, is said so', async () => {
    const empty = join(work, 'empty')
    await mkdir(empty)
    const none = await polyplug(['validate', empty])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no plugin in .*empty: neither a polyplug\.json .* there nor in a folder directly inside/)
    const notFolder = await polyplug(['validate', join(work, 'nonesuch')])
    assert.equal(notFolder.code, 2)
    assert.match(notFolder.stderr, /nonesuch is not a folder; validate takes a plugin folder, or a folder of plugin folders/)
  })
})

describe('polyplug list: exit code 1 when a plugin is invalid', () => {
  let work: string
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-list-'))
    for (const [id, manifest] of [
      ['fine', { id: 'fine', version: '1.0.0', kind: 'js', entry: 'index.js' }],
      ['broken', { id: 'broken', version: '1.0.0', kind: 'cobol', entry: 'index.js' }],
    ] as const) {
      await mkdir(join(work, id))
      await writeFile(join(work, id, 'index.js'), 'export default { methods: {} }\n')
      await writeFile(join(work, id, 'polyplug.json'), JSON.stringify(manifest))
    }
  })
  after(() => rm(work, { recursive: true, force: true }))

  it('still lists the valid plugin and the invalid one with its error, then exits 1', async () => {
    const { code, stdout, stderr } = await polyplug(['list', '--plugins', work])
    assert.equal(code, 1)
    assert.match(stdout, /^fine +1\.0\.0 +js +inline/m)
    assert.match(stdout, /^broken +invalid/m)
    assert.match(stderr, /\/kind: expected one of "js", "wasm", "native", "exec", "python", found "cobol"/)
    const json = await polyplug(['list', '--plugins', work, '--json'])
    assert.equal(json.code, 1)
    assert.deepEqual((JSON.parse(json.stdout) as { id: string; status: string }[]).map((r) => `${r.id}:${r.status}`).sort(), ['broken:invalid', 'fine:inactive'])
  })

  it('exits 0 when every plugin is valid', async () => {
    const { code } = await polyplug(['list', '--plugins', join(work, 'fine')])
    assert.equal(code, 0)
  })
})
