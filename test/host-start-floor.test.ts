/**
 * The host start's floor (bench/cases/footprint.ts, rows HOST_ROWS.floorCpu / floorRss): polyplug's
 * entry built into one file (scripts/bundle-carriers.mjs, bundleHostFloor) starts the same host as
 * the package does, with the host's modules in the file and what the host imports on demand (the
 * worker, process and remote launchers, the kinds' and transports' code, the dashboard server)
 * left as imports of their own files. The bench measures how long it takes; this says it is the
 * same host and what it loads.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { HOST_ROWS } from '../bench/cases/footprint.js'
import { examplesDir, root } from './support/paths.js'

const run = promisify(execFile)
const child = `${root}dist/bench/workers/footprint.js`
const preload = fileURLToPath(new URL('./support/load-log.js', import.meta.url))

interface Meta {
  outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }>
}

describe('the host start\'s floor: polyplug\'s entry in one file', { timeout: 120_000 }, () => {
  let dir: string
  let file: string
  let meta: Meta
  before(async () => {
    // Inside the package, so that the file's package imports resolve as dist/src's do.
    dir = await mkdtemp(`${root}dist/bench/host-floor-test-`)
    file = join(dir, 'index.js')
    const { bundleHostFloor } = (await import(pathToFileURL(`${root}scripts/bundle-carriers.mjs`).href)) as { bundleHostFloor: (outfile: string) => Promise<Meta> }
    meta = await bundleHostFloor(file)
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('holds the host\'s modules and leaves what the host imports on demand in its own files', () => {
    const output = Object.values(meta.outputs)[0]!
    const inFile = Object.keys(output.inputs)
    // The package's entry is itself one file and two shared ones (bundleHost): the floor holds all three.
    for (const module of ['dist/src/index.js', 'dist/src/shared/sdk.js', 'dist/src/shared/host.js']) assert.ok(inFile.includes(module), `${module} is in the file`)
    for (const module of ['placement/worker.js', 'placement/process.js', 'dashboard/server.js']) {
      assert.ok(!inFile.includes(`dist/src/${module}`), `${module} is not in the file`)
      assert.ok(output.imports.some((i) => i.kind === 'dynamic-import' && i.path.endsWith(`/src/${module}`)), `${module} stays an import on demand`)
    }
    assert.deepEqual(output.imports.filter((i) => i.kind === 'import-statement' && !i.path.startsWith('node:')).map((i) => i.path), [], 'no other file is imported before the host runs')
  })

  it('starts the same host as the package: the bench child finds the plugin, and no module of dist/src loads beside the file', async () => {
    const log = join(dir, 'loads.txt')
    const { stdout } = await run(process.execPath, ['--import', preload, child, 'host-floor', file, `${examplesDir}/js-inline#echo-inline`], { env: { ...process.env, POLYPLUG_LOAD_LOG: log }, timeout: 60_000 })
    const sample = JSON.parse(stdout) as { ms: number; cpuMs: number; rssMiB: number }
    assert.ok(sample.cpuMs > 0 && sample.rssMiB > 0, `a sample: ${stdout}`)
    const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
    assert.ok(loaded.some((f) => f.endsWith(file)), 'the one file is loaded')
    assert.deepEqual(loaded.filter((f) => f.includes('/dist/src/') && f.endsWith('.js')), [], 'no module of dist/src is loaded by a host start from the file')
  })

  it('is a row of the bench beside the host start it is the floor of', () => {
    assert.deepEqual(Object.values(HOST_ROWS), ['host start (process start to createHost done)', 'host start CPU', 'host start RSS (whole process)', 'host start CPU, one-file floor', 'host start RSS, one-file floor'])
  })
})
