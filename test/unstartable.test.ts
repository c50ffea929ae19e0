/**
 * A plugin that cannot be started fails its caller at once, on every sidecar transport: the error
 * names the command and the OS error. A sidecar that dies shows its last stderr lines in the error.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { STDERR_TAIL_LINES } from '../src/placement/process.js'
import { rejectsWithCode } from './support/assert-code.js'
import { cliPath } from './support/paths.js'

const transports = ['stdio', 'fifo', 'unix', 'tcp', 'http', 'ws', 'mqtt', 'shm']

async function plugin(root: string, id: string, manifest: Record<string, unknown>, files: Record<string, { text: string; mode?: number }> = {}): Promise<string> {
  const dir = join(root, id)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', placement: 'process', ...manifest }))
  for (const [name, file] of Object.entries(files)) await writeFile(join(dir, name), file.text, { mode: file.mode ?? 0o644 })
  return dir
}

describe('a plugin that cannot be started', { timeout: 60_000 }, () => {
  let root: string
  let host: Host
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-unstartable-'))
    for (const transport of transports) {
      await plugin(root, `missing-${transport}`, { kind: 'exec', entry: 'polyplug.json', transport, sidecar: { command: ['./no-such-program'] } })
      // The natural mistake: a script named as entry, without its exec bit.
      await plugin(root, `noexec-${transport}`, { kind: 'exec', entry: 'main.py', transport }, { 'main.py': { text: 'print("hi")\n' } })
    }
    const lines = Array.from({ length: 30 }, (_, i) => `echo "stderr line ${i + 1}" >&2`).join('\n')
    await plugin(root, 'dies-loudly', { kind: 'exec', entry: 'die.sh', transport: 'stdio', sidecar: { command: ['sh', 'die.sh'] } }, { 'die.sh': { text: `${lines}\nexit 3\n` } })
    host = await createHost({ plugins: [root], logger: () => {}, startTimeoutMs: 20_000 })
  })
  after(async () => {
    await host.close()
    await rm(root, { recursive: true, force: true })
  })

  for (const transport of transports) {
    it(`${transport}: a missing command rejects the pending call with PLUGIN_UNAVAILABLE naming the command and ENOENT`, async () => {
      const error = await rejectsWithCode(host.plugin(`missing-${transport}`).call('x'), 'PLUGIN_UNAVAILABLE')
      assert.match(error.message, /no-such-program/)
      assert.match(error.message, /ENOENT/)
      assert.equal((error.data as { code?: string }).code, 'ENOENT')
      assert.equal(host.plugin(`missing-${transport}`).info().status, 'failed')
    })

    it(`${transport}: an entry without its exec bit rejects with PLUGIN_UNAVAILABLE naming the file and EACCES`, async () => {
      const error = await rejectsWithCode(host.plugin(`noexec-${transport}`).call('x'), 'PLUGIN_UNAVAILABLE')
      assert.match(error.message, /main\.py/)
      assert.match(error.message, /EACCES/)
      assert.match(error.message, /chmod \+x/)
    })
  }

  it('a sidecar that dies carries its last stderr lines in its PLUGIN_CRASHED message and data', async () => {
    const error = await rejectsWithCode(host.plugin('dies-loudly').call('x'), 'PLUGIN_CRASHED')
    const data = error.data as { exitCode: number; stderr: string }
    assert.equal(data.exitCode, 3)
    assert.match(error.message, /stderr line 30/)
    const kept = data.stderr.split('\n')
    assert.equal(kept.length, STDERR_TAIL_LINES)
    assert.equal(kept[0], `stderr line ${30 - STDERR_TAIL_LINES + 1}`)
    assert.equal(kept.at(-1), 'stderr line 30')
  })
})

describe('polyplug call on an unstartable stdio plugin', () => {
  it('exits non-zero, naming the command and the OS error', async () => {
    const root = await mkdtemp(join(tmpdir(), 'polyplug-unstartable-cli-'))
    try {
      await plugin(root, 'cli-missing', { kind: 'exec', entry: 'polyplug.json', transport: 'stdio', sidecar: { command: ['./no-such-program'] } })
      const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [cliPath, 'call', '--plugins', root, 'cli-missing', 'x'], { timeout: 30_000 }, (_error, stdout, stderr) =>
          resolve({ code: child.exitCode, stdout, stderr }),
        )
      })
      assert.equal(outcome.code, 1, `exit code; stderr: ${outcome.stderr}`)
      assert.equal(outcome.stdout, '')
      assert.match(outcome.stderr, /^PLUGIN_UNAVAILABLE: cannot start the plugin: ".*no-such-program" failed with ENOENT/m)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
