import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { manifestJsonSchema } from '../src/manifest/json-schema.js'
import { ManifestError, validateManifest } from '../src/manifest/validate.js'
import { root } from './support/paths.js'

const valid = { id: 'ok', version: '1.0.0', kind: 'js', entry: 'index.js' }

function problems(value: unknown) {
  try {
    validateManifest(value, 'polyplug.json')
  } catch (error) {
    assert.ok(error instanceof ManifestError)
    assert.equal(error.code, 'MANIFEST_INVALID')
    return error.problems
  }
  assert.fail('expected the manifest to be refused')
}

describe('manifest validation', () => {
  it('applies placement and transport defaults per kind', () => {
    assert.deepEqual(validateManifest(valid, 'f'), { ...valid, placement: 'inline', transport: 'direct' })
    const worker = validateManifest({ ...valid, placement: 'worker' }, 'f')
    assert.equal(worker.transport, 'port')
    assert.equal(validateManifest({ ...valid, kind: 'exec', entry: 'x' }, 'f').placement, 'process')
  })

  it('reports every problem at once, each with its path, what was expected and what was found', () => {
    const found = problems({ id: 'Bad Id', version: 'one', kind: 'cobol', colour: 'blue' })
    const byPath = Object.fromEntries(found.map((p) => [p.path, p]))
    assert.deepEqual(Object.keys(byPath).sort(), ['/colour', '/entry', '/id', '/kind', '/version'])
    assert.match(byPath['/kind']?.expected ?? '', /one of "js", "wasm", "native", "exec", "python"/)
    assert.equal(byPath['/kind']?.found, '"cobol"')
    assert.match(byPath['/entry']?.expected ?? '', /required/)
    assert.match(byPath['/colour']?.expected ?? '', /unknown property/)
    assert.equal(byPath['/id']?.found, '"Bad Id"')
  })

  it('names the file and the field in the error message', () => {
    try {
      validateManifest({ ...valid, placement: 'moon' }, '/plugins/x/polyplug.json')
      assert.fail('expected a ManifestError')
    } catch (error) {
      assert.match((error as Error).message, /\/plugins\/x\/polyplug\.json/)
      assert.match((error as Error).message, /\/placement: expected one of "inline", "worker", "process", "remote", found "moon"/)
    }
  })

  it('refuses placements a kind cannot use and transports a placement cannot use', () => {
    assert.equal(problems({ ...valid, kind: 'exec', placement: 'inline' })[0]?.path, '/placement')
    const t = problems({ ...valid, placement: 'inline', transport: 'tcp' })[0]
    assert.equal(t?.path, '/transport')
    assert.match(t?.expected ?? '', /"direct"/)
    assert.equal(problems({ ...valid, placement: 'worker', transport: 'stdio' })[0]?.path, '/transport')
  })

  it('refuses a kind in a worker whose transport there lacks what the kind needs, naming the transports that have it', () => {
    // wasm in a worker needs a synchronous host-call bridge; shm's worker link has none, port's has.
    const wasm = { ...valid, kind: 'wasm', entry: 'plugin.wasm', placement: 'worker' }
    const [problem, ...rest] = problems({ ...wasm, transport: 'shm' })
    assert.equal(rest.length, 0)
    assert.equal(problem?.path, '/transport')
    assert.equal(problem?.found, '"shm"')
    assert.match(problem?.expected ?? '', /one of "port" for kind "wasm" in placement "worker" \(it needs sync-bridge/)
    assert.equal(validateManifest(wasm, 'f').transport, 'port')
    assert.equal(validateManifest({ ...wasm, placement: 'process', transport: 'shm' }, 'f').transport, 'shm')
    assert.equal(validateManifest({ ...valid, placement: 'worker', transport: 'shm' }, 'f').transport, 'shm')
  })

  it('takes a remote plugin\'s transport from its url scheme, the scheme\'s own first', () => {
    const remote = (url: string, transport?: string) => validateManifest({ ...valid, kind: 'exec', entry: 'x', placement: 'remote', remote: { url }, ...(transport ? { transport } : {}) }, 'f').transport
    assert.equal(remote('tcp://127.0.0.1:1'), 'tcp')
    assert.equal(remote('https://example.test'), 'http')
    assert.equal(remote('wss://example.test'), 'ws')
    assert.equal(remote('http://example.test', 'ws'), 'ws')
    assert.equal(remote('mqtts://example.test'), 'mqtt')
    assert.match(problems({ ...valid, kind: 'exec', entry: 'x', placement: 'remote', remote: { url: 'tcp://h:1' }, transport: 'mqtt' })[0]?.expected ?? '', /one of "tcp" for remote url/)
  })

  it('refuses ids polyplug reserves for itself (the MQTT broker\'s host user is "polyplug-host"), naming the fix', () => {
    for (const id of ['polyplug-host', 'polyplug-anything']) {
      const [problem] = problems({ ...valid, id, placement: 'process', transport: 'mqtt' })
      assert.equal(problem?.path, '/id')
      assert.equal(problem?.found, JSON.stringify(id))
      assert.match(problem?.expected ?? '', /not starting with "polyplug-".*rename the plugin/)
    }
    assert.equal(validateManifest({ ...valid, id: 'my-polyplug-host' }, 'f').id, 'my-polyplug-host')
  })

  it('refuses a non-object manifest', () => {
    assert.equal(problems([1, 2])[0]?.path, '')
    assert.equal(problems(null)[0]?.path, '')
  })
})

describe('published JSON Schema', () => {
  it('schema/polyplug.schema.json is generated from the same source as the types (run `npm run schema` after changing it)', () => {
    const shipped = readFileSync(`${root}schema/polyplug.schema.json`, 'utf8')
    assert.equal(shipped, manifestJsonSchema())
  })
})
