/**
 * An interpreter started from the cached Pyodide snapshot (src/kinds/pyodide-runtime.ts) does not
 * keep the snapshot's bytes: Pyodide holds on to the options it was started with, the snapshot
 * among them, and the whole file (≈30 MiB) stayed in the host's memory beside the interpreter
 * restored from it. Each start runs in a child of its own, the first writing the snapshot and the
 * second starting from it.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { examplesDir, root } from './support/paths.js'

const run = promisify(execFile)

/** Starts the interpreter for the python-inline example's grants, then reports the ArrayBuffer bytes the process holds after a GC. */
const START = `
const { grantsOf, runtimeFor } = await import(${JSON.stringify(`${root}dist/src/kinds/pyodide-runtime.js`)})
const dir = ${JSON.stringify(join(examplesDir, 'python-inline'))}
await runtimeFor(grantsOf({ id: 'snapshot-test', version: '1.0.0', kind: 'python', placement: 'inline', entry: '../shared/conformance.py' }, dir), 'snapshot-test')
globalThis.gc()
process.stdout.write(JSON.stringify({ arrayBuffers: process.memoryUsage().arrayBuffers }))
process.exit(0)
`

async function start(cache: string): Promise<{ arrayBuffers: number }> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', START], { env: { ...process.env, POLYPLUG_PYODIDE_CACHE: cache }, timeout: 180_000 })
  return JSON.parse(stdout) as { arrayBuffers: number }
}

describe('an interpreter started from the Pyodide snapshot', { timeout: 400_000 }, () => {
  let cache: string
  before(async () => {
    cache = await mkdtemp(join(tmpdir(), 'polyplug-snapshot-test-'))
  })
  after(() => rm(cache, { recursive: true, force: true }))

  it('holds less ArrayBuffer memory than the snapshot file is long', async () => {
    await start(cache) // writes the snapshot
    const files = (await readdir(cache)).filter((name) => name.startsWith('snapshot-') && name.endsWith('.bin'))
    assert.equal(files.length, 1, `one snapshot written: ${files.join(', ')}`)
    const size = (await stat(join(cache, files[0]!))).size
    const { arrayBuffers } = await start(cache) // starts from it
    assert.ok(arrayBuffers < size, `the process holds ${arrayBuffers} bytes of ArrayBuffers, the snapshot is ${size}`)
  })
})
