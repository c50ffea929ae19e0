import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManifestError, validateManifest } from '../src/manifest/validate.js'

const base = { id: 'ok', version: '1.0.0', kind: 'js', entry: 'index.js' }

function problemPaths(value: unknown): string[] {
  try {
    validateManifest(value, 'polyplug.json')
  } catch (error) {
    assert.ok(error instanceof ManifestError)
    return error.problems.map((p) => p.path).sort()
  }
  assert.fail('expected the manifest to be refused')
}

describe('manifest: the full set of fields', () => {
  it('accepts every field', () => {
    const full = {
      ...base,
      engines: { polyplug: '^0.1.0' },
      transportOptions: { framing: 'ndjson' },
      activation: ['onStartup', 'onDependent', 'onCommand:a.b', 'onMethod:m', 'onHook:h', 'onEvent:t'],
      contributes: {
        commands: [{ id: 'a.b', method: 'run', title: 'Run' }],
        methods: ['run'],
        hooks: [{ hook: 'transform', method: 'run', order: 'pre' }],
        events: [{ topic: 't', method: 'run' }],
        configuration: { level: { type: 'integer', minimum: 0, default: 1 } },
      },
      dependencies: { other: '^2.0.0', 'fmt-api': '>=1 <3' },
      provides: { 'ok-api': '1.0.0' },
      permissions: {
        host: ['storage', 'events.publish:*'],
        fs: [{ path: 'data', access: 'readwrite' }],
        env: ['HOME'],
        network: { connect: ['localhost:80'], listen: false },
      },
      limits: { callTimeoutMs: 1000, memoryMb: 64, startTimeoutMs: 5000, storageBytes: 1024 },
    }
    assert.equal(validateManifest(full, 'f').id, 'ok')
  })

  it('reports bad semver ranges, bad activation events, duplicate commands and bad setting schemas, all at once', () => {
    const paths = problemPaths({
      ...base,
      engines: { polyplug: 'not a range' },
      dependencies: { other: 'soon', ok: '1.x' },
      contributes: { commands: [{ id: 'x' }, { id: 'x' }], configuration: { level: { type: 'integr' } } },
    })
    assert.deepEqual(paths, ['/contributes/commands/1/id', '/contributes/configuration/level', '/dependencies/ok', '/dependencies/other', '/engines/polyplug'])
    assert.deepEqual(problemPaths({ ...base, activation: ['whenever'] }), ['/activation/0'])
    assert.deepEqual(problemPaths({ ...base, permissions: { fs: [{ path: 'x', access: 'write' }] } }), ['/permissions/fs/0/access'])
  })
})
