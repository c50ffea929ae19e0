/**
 * The demo host: loads every plugin in examples/, calls each through the same interface, and
 * prints one row per plugin (kind, placement, transport, result, round-trip time).
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTable } from '../src/cli/table.js'
import { createHost } from '../src/host/host.js'
import { stderrLogger } from '../src/host/log.js'
import { toPolyplugError } from '../src/rpc/errors.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const examples = resolve(root, 'examples')

/** What `npm run build` skipped on this machine (scripts/build.mjs): an example needing it gets a "skipped" row. */
interface BuildSkip {
  piece: string
  outputs: string[]
  missing: { name: string; install: string }[]
}
const skipsFile = resolve(root, 'dist/build-skips.json')
const skips = existsSync(skipsFile) ? (JSON.parse(readFileSync(skipsFile, 'utf8')) as BuildSkip[]) : []
function skippedBecause(entry: string): string | undefined {
  const skip = skips.find((s) => s.outputs.some((output) => resolve(root, output) === entry))
  return skip && `skipped: needs ${skip.missing.map((m) => `${m.name} (${m.install})`).join(', ')}`
}
const requireAll = process.env.POLYPLUG_REQUIRE_ALL === '1'
let skipped = 0
const host = await createHost({ plugins: [examples], logger: stderrLogger('warn') })
const rows: string[][] = []
let failures = 0

for (const info of host.list()) {
  const skip = skippedBecause(resolve(info.dir, info.entry))
  if (skip) {
    skipped++
    rows.push([info.id, info.kind, info.placement, info.transport, '', '', skip])
    continue
  }
  const plugin = host.plugin(info.id)
  let result: string
  let rtt = ''
  let start = ''
  try {
    const t0 = performance.now()
    await plugin.activate('demo')
    start = `${(performance.now() - t0).toFixed(1)} ms`
    const echoed = await plugin.call('echo', [`hello from ${info.id}`])
    const sum = await plugin.call('add', [20, 22])
    const fromHost = await plugin.call('callHost', ['host/info', []]).catch((error: unknown) => {
      // An inline wasm plugin cannot wait for the host (docs/wasm-abi.md): shown, not a failure.
      if (toPolyplugError(error).code === 'HOST_CALL_UNAVAILABLE') return { name: '(none inline)' }
      throw error
    })
    // Round trip of a small call, median of 200 after warm-up.
    const samples: number[] = []
    for (let i = 0; i < 250; i++) {
      const t = performance.now()
      await plugin.call('echo', [i])
      if (i >= 50) samples.push(performance.now() - t)
    }
    samples.sort((a, b) => a - b)
    rtt = `${((samples[samples.length >> 1] ?? 0) * 1000).toFixed(1)} µs`
    result = `echo=${JSON.stringify(echoed)} add=${String(sum)} host=${(fromHost as { name: string }).name}`
  } catch (error) {
    failures++
    const e = toPolyplugError(error)
    result = `${e.code}: ${e.message}`
  }
  rows.push([info.id, info.kind, info.placement, info.transport, start, rtt, result])
}
for (const bad of host.invalid()) {
  failures++
  rows.push([bad.error.plugin ?? bad.dir, '', '', '', '', '', bad.error.message.split('\n')[0] ?? ''])
}

process.stdout.write(formatTable(['plugin', 'kind', 'placement', 'transport', 'start', 'round trip', 'result'], rows))
await host.close()
const answered = rows.length - failures - skipped
process.stdout.write(`\n${answered} of ${rows.length} plugins answered${skipped ? `, ${skipped} skipped (an optional toolchain or library is missing: see their rows)` : ''}.\n`)
if (skipped && requireAll) process.stdout.write('POLYPLUG_REQUIRE_ALL=1 forbids skipping: install what the skipped rows name.\n')
process.exitCode = failures === 0 && !(skipped && requireAll) ? 0 : 1
