import assert from 'node:assert/strict'
import { PolyplugError } from '../../src/rpc/errors.js'

/** Awaits `promise`, expects it to reject with a PolyplugError of `code`, and returns that error. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<PolyplugError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof PolyplugError, `expected a PolyplugError, got ${String(error)}`)
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`)
    return error
  }
  assert.fail(`expected rejection with ${code}, but it resolved`)
}
