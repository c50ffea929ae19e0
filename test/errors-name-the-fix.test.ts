/**
 * Errors an author or an application meets stop at the fix, not one step short of it: they name what
 * there is, the likely typo, and what to change.
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { readManifest } from '../src/manifest/load.js'
import { ManifestError, validateManifest } from '../src/manifest/validate.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { rejectsWithCode } from './support/assert-code.js'
import { examplesDir } from './support/paths.js'

const valid = { id: 'calc', version: '1.0.0', kind: 'js', entry: 'index.js' }

function problemsOf(value: unknown): string {
  try {
    validateManifest(value, 'polyplug.json')
  } catch (error) {
    assert.ok(error instanceof ManifestError)
    return error.message
  }
  assert.fail('the manifest was accepted')
}

describe('manifest errors name the fix', () => {
  it('a misspelt field gets "did you mean"', () => {
    assert.match(problemsOf({ ...valid, placment: 'worker' }), /\/placment: expected no such field \(unknown property; did you mean "placement"\?\)/)
  })

  it('a bad id or version is described in words, not as a regular expression', () => {
    const message = problemsOf({ ...valid, id: 'My Plugin', version: 'v1' })
    assert.match(message, /\/id: expected an id of lower-case letters, digits/)
    assert.match(message, /\/version: expected a semver version such as "1\.0\.0"/)
    assert.doesNotMatch(message, /\^\[a-z0-9\]/)
  })

  it('a JSON syntax error gives the line and column and shows the line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-json-'))
    after(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'polyplug.json'), '{\n  "id": "calc",\n  "version": "1.0.0"\n  "kind": "js"\n}\n')
    const error = await readManifest(dir).then(() => assert.fail('accepted'), (e: unknown) => e as ManifestError)
    assert.match(error.message, /at line 4, column 3: "\\"kind\\": \\"js\\""/)
  })
})

function thrownBy(fn: () => unknown, code: string): PolyplugError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof PolyplugError)
    assert.equal(error.code, code, error.message)
    return error
  }
  assert.fail(`expected ${code}`)
}

describe('host errors name the fix', () => {
  let host: Host
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polyplug-fix-'))
    await cp(join(examplesDir, 'js-inline'), join(dir, 'broken'), { recursive: true })
    await writeFile(join(dir, 'broken', 'polyplug.json'), JSON.stringify({ id: 'broken', version: '1.0.0', kind: 'js' }))
    host = await createHost({ plugins: [examplesDir, dir], logger: silentLogger })
  })
  after(async () => {
    await host.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('PLUGIN_NOT_FOUND suggests the close id and lists the ids there are', () => {
    const error = thrownBy(() => host.plugin('echo-inlin'), 'PLUGIN_NOT_FOUND')
    assert.match(error.message, /did you mean "echo-inline"\?/)
    assert.match(error.message, /the plugins found are "c-mqtt", .* and \d+ more/)
  })

  it('PLUGIN_NOT_FOUND for a plugin whose manifest is invalid says so, with the manifest problem', () => {
    const error = thrownBy(() => host.plugin('broken'), 'PLUGIN_NOT_FOUND')
    assert.match(error.message, /plugin "broken" was not loaded: .*polyplug\.json: invalid manifest/s)
    assert.match(error.message, /\/entry: expected a value/)
  })

  it('METHOD_NOT_FOUND suggests the close method and lists the plugin\'s methods', async () => {
    for (const id of ['echo-inline', 'echo-worker', 'echo-process-stdio']) {
      const error = await rejectsWithCode(host.plugin(id).call('eccho', ['x']), 'METHOD_NOT_FOUND')
      assert.match(error.message, /did you mean "echo"\?/, id)
      assert.match(error.message, /methods: .*"add".*"echo"/, id)
    }
  })

  it('PERMISSION_DENIED names the scope and where to declare it', async () => {
    const error = await rejectsWithCode(host.plugin('echo-inline').call('callHost', ['host/storage.get', ['k']]), 'PERMISSION_DENIED')
    assert.match(error.message, /lacks the "storage" permission; add "storage" to "permissions": \{ "host": \[\.\.\.\] \} in the plugin's polyplug\.json/)
  })
})
