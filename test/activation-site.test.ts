/**
 * ACTIVATION_FAILED names the file and line where the plugin's `activate` threw — in the plugin's
 * own files (not polyplug's, not Node's), and for TypeScript the line of the .ts source, mapped back
 * through the transpiled module's source map — inline, in a worker and in a process.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'

/** A helper in its own file throws: the site is that file, not the entry that called it. */
const settingsJs = `export function settings(config) {
  const path = config.path
  if (!path) throw new Error('no path configured')
  return { path }
}
`
const indexJs = `import { definePlugin } from 'polyplug/sdk'
import { settings } from './settings.js'

export default definePlugin({
  activate(ctx) {
    settings(ctx.config)
  },
  methods: { ok: () => 'ok' },
})
`

/** Types before the throw vanish in the transpiled module, so its line there is not the source's. */
const indexTs = `import { definePlugin, PolyplugError } from 'polyplug/sdk'

interface Settings {
  path: string
  retries: number
}

type Config = Record<string, unknown>

function settings(config: Config): Settings {
  const path = config.path as string | undefined
  if (!path) throw new PolyplugError('E_NO_PATH', 'no path configured')
  return { path, retries: 3 }
}

export default definePlugin({
  activate(ctx): void {
    settings(ctx.config)
  },
  methods: { ok: (): string => 'ok' },
})
`

/** The 1-based line of `text` holding `needle`: derived from the fixture, never written down. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1

describe('ACTIVATION_FAILED names the file and line of the throw', () => {
  let work: string
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-activation-'))
  })
  after(() => rm(work, { recursive: true, force: true }))

  async function plugin(id: string, placement: string, files: Record<string, string>, entry: string): Promise<string> {
    const dir = join(work, id)
    await mkdir(dir, { recursive: true })
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
    await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'js', entry, placement }))
    return dir
  }

  for (const placement of ['inline', 'worker', 'process']) {
    it(`JavaScript, ${placement}: the helper file and the line that threw`, async () => {
      const dir = await plugin(`js-${placement}`, placement, { 'index.js': indexJs, 'settings.js': settingsJs }, 'index.js')
      const host = await createHost({ plugins: [dir], logger: silentLogger })
      after(() => host.close())
      const error = await rejectsWithCode(host.plugin(`js-${placement}`).call('ok'), 'ACTIVATION_FAILED')
      const line = lineOf(settingsJs, 'throw')
      assert.match(error.message, new RegExp(`activate failed: no path configured \\(at ${join(dir, 'settings.js')}:${line}:\\d+\\)`))
    })
  }

  for (const placement of ['inline', 'worker']) {
    it(`TypeScript, ${placement}: the .ts source's line (source-mapped), and the plugin's own code kept`, async () => {
      const dir = await plugin(`ts-${placement}`, placement, { 'index.ts': indexTs }, 'index.ts')
      const host = await createHost({ plugins: [dir], logger: silentLogger })
      after(() => host.close())
      const error = await rejectsWithCode(host.plugin(`ts-${placement}`).call('ok'), 'ACTIVATION_FAILED')
      const line = lineOf(indexTs, 'throw')
      const column = indexTs.split('\n')[line - 1]!.indexOf('new PolyplugError') + 1
      assert.match(error.message, new RegExp(`activate failed: no path configured \\(at ${join(dir, 'index.ts')}:${line}:${column}\\)`))
      assert.deepEqual(error.data, { code: 'E_NO_PATH' })
    })
  }

  it('a thrown value that is not an Error has no site, and the message stays as it was', async () => {
    const dir = await plugin('throws-string', 'inline', { 'index.js': `export default { activate() { throw 'plain text' }, methods: { ok: () => 'ok' } }\n` }, 'index.js')
    const host = await createHost({ plugins: [dir], logger: silentLogger })
    after(() => host.close())
    const error = await rejectsWithCode(host.plugin('throws-string').call('ok'), 'ACTIVATION_FAILED')
    assert.match(error.message, /activate failed: plain text$/)
  })
})
