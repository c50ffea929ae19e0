/**
 * What the CLI says and how it ends: -v/--verbose and --quiet, the documented exit codes, and the
 * error format on stderr — including the last stderr lines of a sidecar that died.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CliProcess } from './support/cli-process.js'
import { requires, tools } from './support/requires.js'

const cleanup: Array<() => unknown> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

async function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(args)
  cli.child.stdin.end()
  const code = await cli.exited
  return { code, stdout: cli.stdout, stderr: cli.stderr }
}

async function pluginDir(files: Record<string, string>, manifest: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-cli-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ version: '1.0.0', ...manifest }))
  return dir
}

describe('the CLI error format and exit codes', { skip: requires(tools.python3) }, () => {
  it("a sidecar that dies: PLUGIN_CRASHED, then its last stderr lines, exit 1", async () => {
    const dir = await pluginDir(
      { 'main.py': 'import sys\nprint("loading settings", file=sys.stderr)\nprint("fatal: cannot open config", file=sys.stderr)\nsys.exit(3)\n' },
      { id: 'dies', kind: 'exec', entry: 'main.py', sidecar: { command: ['python3', 'main.py'] } },
    )
    const { code, stdout, stderr } = await run('call', '--plugins', dir, 'dies', 'hello')
    assert.equal(code, 1)
    assert.equal(stdout, '')
    assert.match(stderr, /^PLUGIN_CRASHED: .*\(code 3\).*\(plugin dies/m)
    assert.match(stderr, /last stderr lines of dies:\n {2}stderr\| loading settings\n {2}stderr\| fatal: cannot open config\n/)
  })
})

describe('verbosity', () => {
  const chatty = { 'index.js': "process.stderr.write('chatty: on stderr\\n')\nexport default { activate(ctx) { ctx.log.debug('chatty: a debug line') }, methods: { hi: () => 'hi' } }\n" }

  it('by default: the result on stdout, plugin stderr not shown; exit 0', async () => {
    const dir = await pluginDir(chatty, { id: 'chatty', kind: 'js', entry: 'index.js', placement: 'process' })
    const { code, stdout, stderr } = await run('call', '--plugins', dir, 'chatty', 'hi')
    assert.equal(code, 0)
    assert.equal(stdout, '"hi"\n')
    assert.doesNotMatch(stderr, /chatty:/)
  })

  for (const flag of ['-v', '--verbose']) {
    it(`${flag}: the plugin's stderr and the host's debug log reach stderr; stdout is still only the result`, async () => {
      const dir = await pluginDir(chatty, { id: 'chatty', kind: 'js', entry: 'index.js', placement: 'process' })
      const { code, stdout, stderr } = await run('call', flag, '--plugins', dir, 'chatty', 'hi')
      assert.equal(code, 0)
      assert.equal(stdout, '"hi"\n')
      assert.match(stderr, /\[chatty\] info: chatty: on stderr/)
      assert.match(stderr, /\[chatty\] debug: chatty: a debug line/)
    })
  }

  it('--quiet: only the result, even when the plugin is chatty; errors still reach stderr', async () => {
    const dir = await pluginDir(chatty, { id: 'chatty', kind: 'js', entry: 'index.js', placement: 'process' })
    const ok = await run('call', '--quiet', '--plugins', dir, 'chatty', 'hi')
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '"hi"\n', ''])
    const failed = await run('call', '-q', '--plugins', dir, 'chatty', 'nope')
    assert.equal(failed.code, 1)
    assert.match(failed.stderr, /^METHOD_NOT_FOUND: .*\(plugin chatty, method nope\)\n$/)
  })

  it('exit 2 for wrong usage; help documents the exit codes and the error format', async () => {
    assert.equal((await run('call', '--plugins')).code, 2)
    assert.equal((await run('no-such-verb')).code, 2)
    const help = await run('help')
    assert.equal(help.code, 0)
    assert.match(help.stdout, /Exit codes: 0 success; 1 .*; 2 wrong usage/s)
    assert.match(help.stdout, /-v, --verbose/)
    assert.match(help.stdout, /-q, --quiet/)
    assert.match(help.stdout, /stderr\| LINE/)
  })
})

