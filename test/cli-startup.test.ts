/**
 * `polyplug call` loads only what the call needs: for a stdio plugin, none of the heavy optional
 * capabilities (brokers, metrics, in-process runtimes, the dashboard, the packager) and no schema
 * compiler. Every module the CLI process loads is recorded (test/support/load-log.ts) and checked
 * against that list. How long the start takes is measured by `npm run bench -- --only cli`.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { cliPath, examplesDir } from './support/paths.js'
import { requires, tools } from './support/requires.js'

const preload = fileURLToPath(new URL('./support/load-log.js', import.meta.url))

/** What a stdio call must not load, and why it would be there. */
const NOT_LOADED: [RegExp, string][] = [
  [/node_modules\/aedes\//, 'the embedded MQTT broker'],
  [/node_modules\/mqtt\//, 'the MQTT client'],
  [/node_modules\/prom-client\//, 'the metrics registry'],
  [/node_modules\/pyodide\//, 'the in-process Python runtime'],
  [/node_modules\/koffi\//, 'the native FFI'],
  [/node_modules\/better-sqlite3\//, 'the SQLite state store'],
  [/node_modules\/@sinclair\/typebox\//, 'the manifest schema builder (the published schema is used instead)'],
  [/node_modules\/ajv\/(?!dist\/runtime\/)/, 'the JSON Schema compiler (the manifest validator is prebuilt; it needs only Ajv\'s runtime helpers)'],
  [/node_modules\/tar\//, 'the package installer'],
  [/node_modules\/msgpackr\//, 'the MessagePack codec (stdio frames JSON here)'],
  [/node_modules\/@opentelemetry\//, 'the tracing API (no SDK registered)'],
  [/dist\/src\/dashboard\//, 'the dashboard'],
  [/dist\/src\/package\//, 'the packager'],
  [/dist\/src\/check\//, 'the conformance checker'],
  [/dist\/src\/init\//, 'the scaffolder'],
]

interface Run {
  code: number | null
  stdout: string
  stderr: string
  loaded: string[]
}

async function callRecordingLoads(dir: string, args: string[]): Promise<Run> {
  const log = join(dir, `loads-${args.join('-').replace(/\W+/g, '_')}.txt`)
  const run = await new Promise<Omit<Run, 'loaded'>>((resolve) => {
    const child = execFile(process.execPath, ['--import', preload, cliPath, 'call', ...args], { timeout: 60_000, env: { ...process.env, POLYPLUG_LOAD_LOG: log } }, (_e, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    )
  })
  return { ...run, loaded: (await readFile(log, 'utf8')).split('\n').filter(Boolean) }
}

function assertLoadsOnlyWhatTheCallNeeds(run: Run): void {
  // The log really records: the host and the stdio transport are in it.
  assert.ok(run.loaded.some((file) => file.endsWith('/dist/src/host/host.js')), 'the load log lists the host')
  assert.ok(run.loaded.some((file) => file.endsWith('/dist/src/transports/stdio.js')), 'the load log lists the stdio transport')
  const wrong = NOT_LOADED.flatMap(([pattern, what]) => run.loaded.filter((file) => pattern.test(file)).slice(0, 1).map((file) => `${what}: ${file}`))
  assert.deepEqual(wrong, [], 'modules a stdio call does not need')
}

describe('polyplug call loads only what a stdio call needs', { timeout: 120_000 }, () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'polyplug-cli-startup-'))
    await mkdir(join(root, 'plugins', 'cli-missing'), { recursive: true })
    await writeFile(
      join(root, 'plugins', 'cli-missing', 'polyplug.json'),
      JSON.stringify({ id: 'cli-missing', version: '1.0.0', kind: 'exec', entry: 'polyplug.json', placement: 'process', transport: 'stdio', sidecar: { command: ['./no-such-program'] } }),
    )
  })
  after(() => rm(root, { recursive: true, force: true }))

  it('an unstartable plugin: exit 1 naming the command and ENOENT, without loading any heavy capability', async () => {
    const run = await callRecordingLoads(root, ['--plugins', join(root, 'plugins'), 'cli-missing', 'x'])
    assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`)
    assert.match(run.stderr, /^PLUGIN_UNAVAILABLE: cannot start the plugin: ".*no-such-program" failed with ENOENT/m)
    assertLoadsOnlyWhatTheCallNeeds(run)
  })

  it('a working Python plugin over stdio: the answer, without loading any heavy capability', { skip: requires(tools.python3) }, async () => {
    const run = await callRecordingLoads(root, ['--plugins', join(examplesDir, 'python-stdio'), 'python-stdio', 'echo', '["hi"]'])
    assert.equal(run.code, 0, `exit code; stderr: ${run.stderr}`)
    assert.equal(run.stdout.trim(), '"hi"')
    assertLoadsOnlyWhatTheCallNeeds(run)
  })
})
