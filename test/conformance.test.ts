/**
 * The plugin conformance suite: every plugin in examples/ — each kind, placement and transport —
 * implements the same interface and must pass the same behaviours. A new example is covered
 * by adding its folder; nothing here names a transport.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { discoverPlugins } from '../src/manifest/load.js'
import { examplesDir } from './support/paths.js'
import { describePluginConformance } from './support/plugin-suite.js'

const found = await discoverPlugins([examplesDir])

describe('examples/ holds only valid plugins', () => {
  it('every manifest validates', () => {
    const invalid = found.filter((d) => !d.ok)
    assert.deepEqual(invalid.map((d) => (d.ok ? '' : d.error.message)), [])
    assert.ok(found.length >= 2)
  })
})

for (const item of found) {
  if (item.ok) describePluginConformance(item.loaded)
}
