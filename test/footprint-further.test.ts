/**
 * The footprint bench's second-plugin rows (bench/cases/footprint.ts) are per further plugin: its
 * child (bench/workers/footprint.ts) starts the first target before the clock, then every further
 * target in turn, and divides each figure by how many it started — one plugin's idle RSS is a
 * fraction of a MiB, below what one sample resolves. This says every further target is started
 * and answered, on the bare side and on polyplug's; how long they take is the bench's to measure.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { examplesDir, root } from './support/paths.js'
import { FURTHER, furtherPlugins, type Subject } from '../bench/cases/footprint.js'

const run = promisify(execFile)
const child = `${root}dist/bench/workers/footprint.js`

interface Sample { ms: number; cpuMs: number; rssMiB: number; inUseMiB?: number; plugins: number; builtins: number }

async function sample(args: string[]): Promise<Sample> {
  const { stdout } = await run(process.execPath, [child, ...args], { timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').pop()!) as Sample
}

describe('the footprint bench: a second-plugin sample is per further plugin', { timeout: 120_000 }, () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(root, 'dist/bench/footprint-further-test-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('the bare side imports every further module, each answering once, and counts them', async () => {
    const marks = join(dir, 'marks')
    const files: string[] = []
    for (let k = 0; k < 4; k++) {
      const file = join(dir, `m${k}.js`)
      await writeFile(file, `import { writeFileSync, mkdirSync } from 'node:fs'\nexport default { methods: { echo(v) { mkdirSync(${JSON.stringify(marks)}, { recursive: true }); writeFileSync(${JSON.stringify(join(marks, `m${k}`))}, String(v)); return v } } }\n`)
      files.push(file)
    }
    const s = await sample(['import', ...files])
    assert.equal(s.plugins, 3, 'three further modules after the first')
    assert.deepEqual((await readdir(marks)).sort(), ['m0', 'm1', 'm2', 'm3'], 'the first and every further module answered its echo')
    assert.ok(s.cpuMs > 0, `a sample: ${JSON.stringify(s)}`)
  })

  it('the clock loads nothing inside the window: a further module that imports no built-in loads none, on either side of a row', async () => {
    const files: string[] = []
    for (let k = 0; k < 2; k++) {
      const file = join(dir, `plain${k}.js`)
      await writeFile(file, 'export default { methods: { echo(v) { return v } } }\n')
      files.push(file)
    }
    // Before the clock was read ahead of the window, its first read loaded node:perf_hooks here (11 built-ins), on the bare side only.
    assert.equal((await sample(['import', ...files])).builtins, 0)
  })

  it('polyplug starts every further plugin (each under its own id) and counts them', async () => {
    const targets: string[] = []
    for (let k = 2; k < 5; k++) {
      const folder = join(dir, `p${k}`)
      await run('mkdir', ['-p', folder])
      await writeFile(join(folder, 'polyplug.json'), JSON.stringify({ id: `echo-${k}`, version: '1.0.0', kind: 'js', entry: join(examplesDir, 'shared/conformance.js'), placement: 'inline', transport: 'direct' }))
      targets.push(`${folder}#echo-${k}`)
    }
    const s = await sample(['plugin', `${examplesDir}/js-inline#echo-inline`, ...targets])
    assert.equal(s.plugins, 3)
    // A target that did not start fails the child: an unknown id is PLUGIN_NOT_FOUND, not a sample.
    await assert.rejects(sample(['plugin', `${examplesDir}/js-inline#echo-inline`, `${dir}/p2#no-such-plugin`]))
  })

  it('gives every further plugin its own copy of the file, alone in a folder of its own, on both sides', async () => {
    // A python plugin's folder is its code (the kind stages every .py file in it): copies sharing
    // one folder would each stage all of them, a cost no application's plugins pay.
    const subject: Subject = { kind: 'python', placement: 'inline', transport: 'direct', folder: 'python-inline', id: 'python-inline', bare: 'pyodide', target: 'shared/conformance.py', secondEntry: 'shared/conformance.py', label: 'loadPyodide()' }
    const manifests = join(dir, 'manifests')
    const copies = join(dir, 'copies')
    await mkdir(manifests)
    await mkdir(copies)
    const { polyplug, bare } = await furtherPlugins(manifests, copies, subject)
    assert.equal(bare.length, FURTHER)
    assert.equal(new Set(bare.map((file) => dirname(file))).size, FURTHER, 'a folder per copy')
    for (const file of bare) assert.deepEqual(await readdir(dirname(file)), [basename(file)])
    const entries = await Promise.all(polyplug.map(async (target) => (JSON.parse(await readFile(join(target.slice(0, target.lastIndexOf('#')), 'polyplug.json'), 'utf8')) as { entry: string }).entry))
    assert.deepEqual(entries, bare, "polyplug's further plugins run the bare side's copies")
  })

  it('reads the memory in use a further inline python plugin adds (JS heap and Python heap) on both sides, and only there', async () => {
    const folder = join(dir, 'py2')
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, 'polyplug.json'), JSON.stringify({ id: 'python-inline-2', version: '1.0.0', kind: 'python', entry: join(examplesDir, 'shared/conformance.py'), placement: 'inline' }))
    const polyplug = await sample(['plugin', `${examplesDir}/python-inline#python-inline`, `${folder}#python-inline-2`])
    const bare = await sample(['pyodide', join(examplesDir, 'shared/conformance.py'), join(examplesDir, 'shared/conformance.py')])
    assert.equal(typeof polyplug.inUseMiB, 'number', JSON.stringify(polyplug))
    assert.equal(typeof bare.inUseMiB, 'number', JSON.stringify(bare))
    const js = await sample(['plugin', `${examplesDir}/js-inline#echo-inline`, `${examplesDir}/js-inline#echo-inline`])
    assert.equal(js.inUseMiB, undefined, 'no Pyodide interpreter, no such figure')
  })
})
