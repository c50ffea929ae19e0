/**
 * The plugin conformance suite: every example plugin — each kind, placement and transport — runs
 * the same checks that `polyplug check` runs on any plugin (src/check/checks.ts), one test each.
 * Examples implement the whole conformance interface, so a missing method fails here (where
 * `polyplug check` would skip); a check that cannot apply to a placement is reported as a skip with
 * its reason.
 */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { after, before, it } from 'node:test'
import { conformanceChecks, protocolChecks, stopCheck, strayOutputCheck, streamChecks, type CheckContext } from '../../src/check/checks.js'
import { capabilityMissing, missingMethods, runCheck } from '../../src/check/run.js'
import { createHost, type Host } from '../../src/host/host.js'
import type { LogEntry } from '../../src/host/log.js'
import type { LoadedManifest } from '../../src/manifest/load.js'
import { describeRequiring } from './describe-requiring.js'
import { builtWith, type Requirement } from './requires.js'
import { PATIENCE_MS } from './wait.js'

/** Runs the suite against one plugin folder; `label` tells apart runs of the same plugin (e.g. another broker). */
export function describePluginConformance(loaded: LoadedManifest, label = '', needs: Requirement[] = []): void {
  const { id, kind, placement, transport } = loaded.manifest
  const needed = [...needs, ...builtWith(resolve(loaded.dir, loaded.manifest.entry))]
  describeRequiring(`plugin conformance: ${id} (${kind}, ${placement}, ${transport})${label ? `, ${label}` : ''}`, needed, () => {
    let host: Host
    let ctx: CheckContext
    const log: LogEntry[] = []
    before(async () => {
      host = await createHost({ plugins: [loaded.dir], logger: (e) => void log.push(e), callTimeoutMs: PATIENCE_MS })
      ctx = { host, plugin: host.plugin(id), manifest: loaded.manifest, log }
    })
    after(() => host.close())

    // Stream checks run where `$/hello` lists the capability and are skipped with the reason elsewhere.
    for (const check of [...protocolChecks, ...conformanceChecks, ...streamChecks, strayOutputCheck, stopCheck]) {
      const notFor = check.notFor?.(loaded.manifest)
      it(check.name, notFor ? { skip: notFor } : {}, async (t) => {
        if (check.capability) {
          await ctx.plugin.activate()
          const lacks = capabilityMissing(check, id, ctx.plugin.info().capabilities)
          if (lacks) return t.skip(lacks)
        }
        const missing = missingMethods(check, ctx.plugin.info().methods ?? (await ctx.plugin.activate(), ctx.plugin.info().methods))
        assert.deepEqual(missing, [], `an example must export the whole conformance interface (docs/conformance.md)`)
        const result = await runCheck(check, ctx)
        assert.equal(result.status, 'pass', [result.reason, result.sent && `sent: ${String(result.sent)}`, result.got && `got: ${JSON.stringify(result.got)}`].filter(Boolean).join('\n'))
      })
    }
  })
}

