/**
 * A suite that needs optional system tools (test/support/requires.ts). When one is missing the suite
 * holds a single skipped test whose reason names it and its install command — a suite-level skip
 * would not be counted by the runner's summary, a skipped test is. POLYPLUG_REQUIRE_ALL=1 fails instead.
 */
import { describe, it } from 'node:test'
import { requires, type Requirement } from './requires.js'

export function describeRequiring(name: string, needed: Requirement[], fn: () => void): void {
  const reason = requires(...needed)
  if (reason) describe(name, () => it(`skipped: ${reason}`, { skip: reason }, () => {}))
  else describe(name, fn)
}
