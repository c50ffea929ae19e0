/**
 * TypeScript plugins across the typescript versions polyplug declares (package.json peerDependencies,
 * TYPESCRIPT_RANGE): the ends of the range load a `.ts` plugin; a version without the transpile API
 * (7.x, the native compiler) is refused with PLUGIN_UNAVAILABLE naming the fix. Each version is
 * installed from the registry into a temporary folder, beside a copy of polyplug that finds it.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { TYPESCRIPT_RANGE } from '../src/kinds/js.js'
import { root } from './support/paths.js'

const run = promisify(execFile)
const VERSIONS = { low: '5.0.4', five: '5', six: '6', seven: '7' } as const
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_'))), POLYPLUG_TS_CACHE: 'off' }

describe('TypeScript plugins across typescript versions', () => {
  let work: string
  let plugin: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-ts-versions-'))
    const aliases = Object.entries(VERSIONS).map(([name, version]) => `ts-${name}@npm:typescript@${version}`)
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', join(work, 'registry'), ...aliases], { env, maxBuffer: 64 << 20 })
    plugin = join(work, 'plugin')
    await mkdir(plugin)
    await writeFile(join(plugin, 'polyplug.json'), JSON.stringify({ id: 'typed', version: '1.0.0', kind: 'js', entry: 'index.ts', placement: 'inline' }))
    await writeFile(join(plugin, 'index.ts'), "import { definePlugin } from 'polyplug/sdk'\nconst n: number = 41\nexport default definePlugin({ methods: { answer: (): number => n + 1 } })\n")
  })
  after(() => rm(work, { recursive: true, force: true }))

  /** A copy of polyplug whose `typescript` is the given install; prints the call's answer or the error. */
  async function withTypescript(name: keyof typeof VERSIONS): Promise<{ answer?: number; code?: string; message?: string }> {
    const modules = join(work, name, 'node_modules')
    await mkdir(join(modules, 'polyplug'), { recursive: true })
    await cp(join(root, 'package.json'), join(modules, 'polyplug', 'package.json'))
    await cp(join(root, 'dist', 'src'), join(modules, 'polyplug', 'dist', 'src'), { recursive: true })
    // The manifest schema ships in the package (package.json files): the manifest checker reads it.
    await cp(join(root, 'schema'), join(modules, 'polyplug', 'schema'), { recursive: true })
    for (const dep of await readdir(join(root, 'node_modules'))) {
      if (dep !== 'typescript' && !dep.startsWith('.')) await symlink(join(root, 'node_modules', dep), join(modules, dep))
    }
    await symlink(join(work, 'registry', 'node_modules', `ts-${name}`), join(modules, 'typescript'))
    const script = `import { createHost } from 'polyplug'
const host = await createHost({ plugins: [${JSON.stringify(plugin)}] })
try { process.stdout.write(JSON.stringify({ answer: await host.plugin('typed').call('answer') })) }
catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })) }
finally { await host.close() }`
    await writeFile(join(work, name, 'main.mjs'), script)
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: join(work, name), env })
    return JSON.parse(stdout) as { answer?: number; code?: string; message?: string }
  }

  it('package.json declares the range the host checks', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }
    assert.equal(pkg.peerDependencies.typescript, TYPESCRIPT_RANGE)
  })

  for (const name of ['low', 'five', 'six'] as const) {
    it(`typescript@${VERSIONS[name]} transpiles a .ts plugin`, async () => {
      assert.deepEqual(await withTypescript(name), { answer: 42 })
    })
  }

  it('typescript@7 (no transpile API) is refused with PLUGIN_UNAVAILABLE naming the fix', async () => {
    const result = await withTypescript('seven')
    assert.equal(result.code, 'PLUGIN_UNAVAILABLE')
    assert.match(result.message ?? '', /typescript package found is 7\.\d+\.\d+.*npm install typescript@5/)
  })
})
