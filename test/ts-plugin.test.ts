/**
 * Plugins written in TypeScript (src/kinds/ts-hooks.ts): transpiled on load, no build step.
 * examples/ts-* pass the conformance suite inline, in a worker and in a process; here: what
 * TypeScript brings beyond that (enums, NodeNext `.js` imports, reloads) and what a broken file gives.
 */
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyplug-ts-'))
})
after(() => rm(dir, { recursive: true, force: true }))

async function tsPlugin(id: string, files: Record<string, string>, placement = 'inline'): Promise<string> {
  const folder = join(dir, id)
  await mkdir(folder, { recursive: true })
  await writeFile(join(folder, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'js', entry: 'index.ts', placement }))
  for (const [name, text] of Object.entries(files)) await writeFile(join(folder, name), text)
  return folder
}

describe('TypeScript plugins', () => {
  it('run enums, type-only imports and `.js` specifiers that name `.ts` files, and reload their changes', async () => {
    const folder = await tsPlugin('ts-features', {
      'index.ts': "import { Level, label } from './levels.js'\nimport type { Named } from './levels.js'\nconst who: Named = { name: 'ts' }\nexport default { methods: { describe: (): string => `${label(Level.High)} ${who.name}` } }\n",
      'levels.ts': "export enum Level { Low = 1, High = 2 }\nexport interface Named { name: string }\nexport function label(level: Level): string { return Level[level] }\n",
    })
    const host = await createHost({ plugins: [folder], logger: silentLogger })
    try {
      assert.equal(await host.plugin('ts-features').call('describe'), 'High ts')
      await writeFile(join(folder, 'levels.ts'), "export enum Level { Low = 1, High = 2 }\nexport interface Named { name: string }\nexport function label(level: Level): string { return Level[level].toUpperCase() }\n")
      await host.reload('ts-features')
      assert.equal(await host.plugin('ts-features').call('describe'), 'HIGH ts')
    } finally {
      await host.close()
    }
  })

  it('transpiles without type checking, and a syntax error fails the start with PLUGIN_UNAVAILABLE', async () => {
    const typeError = await tsPlugin('ts-type-error', { 'index.ts': "const n: number = 'not a number' as unknown as number\nexport default { methods: { n: () => n } }\n" })
    const broken = await tsPlugin('ts-broken', { 'index.ts': 'export default { methods: { oops: () => { } ) } }\n' })
    const host = await createHost({ plugins: [typeError, broken], logger: silentLogger })
    try {
      assert.equal(await host.plugin('ts-type-error').call('n'), 'not a number')
      const error = await rejectsWithCode(host.plugin('ts-broken').call('oops'), 'PLUGIN_UNAVAILABLE')
      assert.equal(error.plugin, 'ts-broken')
      assert.match(error.message, /index\.ts:1:\d+/)
    } finally {
      await host.close()
    }
  })

  describe('the transpile cache', () => {
    const saved = process.env.POLYPLUG_TS_CACHE
    after(() => {
      if (saved === undefined) delete process.env.POLYPLUG_TS_CACHE
      else process.env.POLYPLUG_TS_CACHE = saved
    })
    // In a worker, so every start transpiles (or reads the cache) in a fresh thread.
    const answer = async (folder: string) => {
      const host = await createHost({ plugins: [folder], logger: silentLogger })
      try {
        return await host.plugin('ts-cached').call('answer')
      } finally {
        await host.close()
      }
    }

    it('keeps one entry per version of a file, and an edited file runs its new code', async () => {
      const cache = join(dir, 'cache')
      process.env.POLYPLUG_TS_CACHE = cache
      const folder = await tsPlugin('ts-cached', { 'index.ts': 'export default { methods: { answer: (): number => 1 } }\n' }, 'worker')
      assert.equal(await answer(folder), 1)
      assert.equal(await answer(folder), 1)
      assert.equal((await readdir(cache)).length, 1)
      await writeFile(join(folder, 'index.ts'), 'export default { methods: { answer: (): number => 2 } }\n')
      assert.equal(await answer(folder), 2)
      assert.equal((await readdir(cache)).length, 2)
    })

    it('is not used when others could write to its folder', async () => {
      const open = join(dir, 'open-cache')
      await mkdir(open)
      await chmod(open, 0o777)
      process.env.POLYPLUG_TS_CACHE = open
      const folder = await tsPlugin('ts-cached', { 'index.ts': 'export default { methods: { answer: (): number => 3 } }\n' }, 'worker')
      assert.equal(await answer(folder), 3)
      assert.deepEqual(await readdir(open), [])
    })
  })
})
