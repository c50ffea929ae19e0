/**
 * `polyplug check`: the plugin checks on any folder. A correct plugin passes; each deliberately
 * broken one (test/fixtures/check/broken.py, one defect each) fails, and the failure names the cause.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { appendFile, copyFile, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { checkPlugin, type CheckReport } from '../src/check/run.js'
import { cliPath, examplesDir, fixturesDir, root } from './support/paths.js'
import { requires, tools } from './support/requires.js'

const broken = (defect: string) => `${fixturesDir}/check/${defect}`

function failures(report: CheckReport): string[] {
  return report.results.filter((r) => r.status === 'fail').map((r) => `${r.name}: ${r.reason}`)
}

describe('polyplug check', { skip: requires(tools.python3) }, () => {
  it('a plugin without defects passes; checks it cannot run are skips naming the missing methods', async () => {
    const report = await checkPlugin(broken('none'))
    assert.deepEqual(failures(report), [])
    assert.ok(report.ok)
    const skipped = report.results.filter((r) => r.status === 'skip')
    assert.ok(skipped.some((r) => /does not export bytes/.test(r.reason ?? '')), JSON.stringify(skipped))
  })

  const cases: [defect: string, check: RegExp, cause: RegExp][] = [
    ['wrong-token', /^starts/, /PERMISSION_DENIED: the plugin answered \$\/hello without the launch token/],
    ['stray-stdout', /^starts/, /FRAME_TOO_LARGE|stray|stdout/],
    ['no-hello', /^starts/, /PLUGIN_START_TIMEOUT: no handshake within 2000 ms/],
    ['wrong-version', /^starts/, /PROTOCOL_MISMATCH: the plugin answered \$\/hello with protocol 99/],
    ['wrong-error-shape', /^an unknown method fails with METHOD_NOT_FOUND/, /error must be an object with a numeric code/],
    ['ignores-cancel', /^sleep honours cancellation/, /cancelCount/],
  ]
  for (const [defect, check, cause] of cases) {
    it(`fails a plugin with the defect "${defect}", naming the cause`, async () => {
      const report = await checkPlugin(broken(defect))
      assert.equal(report.ok, false)
      const failed = report.results.find((r) => r.status === 'fail')
      assert.ok(failed, 'a check failed')
      assert.match(failed.name, check)
      assert.match(failed.reason ?? '', cause)
    })
  }

  it('the command prints each check and exits 1 on a failure, 0 on success', () => {
    const bad = spawnSync(process.execPath, [cliPath, 'check', broken('wrong-version')], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(bad.status, 1, bad.stderr)
    assert.match(bad.stdout, /✗ starts: .*\n\s+the plugin did not start: PROTOCOL_MISMATCH/)
    const good = spawnSync(process.execPath, [cliPath, 'check', `${examplesDir}/js-inline`], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(good.status, 0, good.stdout + good.stderr)
    assert.match(good.stdout, /echo-inline: \d+ passed, 0 failed/)
  })
})

describe('polyplug check runs a declared build when its output is missing or stale', { skip: requires(tools.gcc, tools.jansson) }, () => {
  it('builds a C sidecar, skips the build when up to date, rebuilds after a change, and reports a failed build with the compiler output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-build-'))
    try {
      const kit = (await readdir(`${root}kits/c-sidecar`)).filter((f) => /\.[ch]$/.test(f) && f !== 'polyplug_mqtt.c')
      for (const file of kit) await copyFile(`${root}kits/c-sidecar/${file}`, join(dir, file))
      await copyFile(`${root}examples/shared/conformance.c`, join(dir, 'conformance.c'))
      const manifest = {
        id: 'c-built', version: '1.0.0', kind: 'exec', entry: 'plugin', sidecar: { command: ['./plugin'] },
        build: { command: ['sh', '-c', 'gcc -std=c99 -O2 -I. -o plugin *.c -ljansson -lm'], inputs: ['polyplug.c', 'conformance.c', 'polyplug.h'] },
      }
      await writeFile(join(dir, 'polyplug.json'), JSON.stringify(manifest))
      const first = await checkPlugin(dir)
      assert.deepEqual(failures(first), [])
      assert.match(first.results[1]!.name, /^builds with "sh -c gcc .*" \(.*plugin is missing\)$/)
      const second = await checkPlugin(dir)
      assert.equal(second.results[1]!.reason, 'up to date')
      const later = new Date(Date.now() + 5000)
      await utimes(join(dir, 'conformance.c'), later, later)
      const third = await checkPlugin(dir)
      assert.match(third.results[1]!.name, /sources changed since the last build \(conformance\.c\)/)
      await appendFile(join(dir, 'conformance.c'), '\nthis is not C;\n')
      const broken = await checkPlugin(dir)
      assert.equal(broken.ok, false)
      assert.match(broken.results[1]!.reason ?? '', /the build "sh -c gcc .*" exited with code 1:\n.*conformance\.c.*error/s)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
