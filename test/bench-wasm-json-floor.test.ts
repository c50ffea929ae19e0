/**
 * The floor the wasm inline rows are measured against (bench/wasm-json-floor.ts): the raw ABI call
 * plus the JSON a method call cannot avoid. It must keep doing that JSON both ways — a floor that
 * sent ready-made bytes or returned the result's text would be measured too cheap.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { jsonFloor } from '../bench/wasm-json-floor.js'
import { rawWasm } from '../bench/workers/raw-wasm.js'
import { conformanceWasm } from './support/wasm-fixture.js'

describe('the hand-written JSON ABI floor for wasm', () => {
  const call = jsonFloor(rawWasm(conformanceWasm))
  const echo = new TextEncoder().encode('echo')

  it('turns the params into JSON and the result back into the value, scalars and others alike', () => {
    for (const value of [1, 2.5, 1e21, true, null, 'plain', 'a"b', 'héllo ✓', 'x'.repeat(100), { deep: [1, { two: 'é' }] }, [1, [2]]]) {
      assert.deepEqual(call(echo, [value]), value, JSON.stringify(value))
    }
  })
})
