/**
 * The polyplug workbench (`npm start`): a small text and data application whose features are
 * plugins of several kinds and languages, placed differently, with the host's dashboard beside it.
 * It prints the URL to open and runs until Ctrl-C, which stops every plugin (no process, temporary
 * folder or shared-memory file stays behind). Without a terminal (CI) or with `--once`, it runs
 * each feature once over HTTP, prints the results and exits: 0 when every feature answered.
 * `--serve` keeps it serving without a terminal. The conformance table is `npm run matrix`.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createHost, stderrLogger } from '../src/index.js'
import { FEATURES } from './workbench/features.js'
import { serveWorkbench } from './workbench/server.js'

const { values } = parseArgs({ options: { once: { type: 'boolean', default: false }, serve: { type: 'boolean', default: false }, port: { type: 'string', default: '0' } } })
const once = values.once || (!process.stdout.isTTY && !values.serve)
const at = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))

const host = await createHost({
  plugins: [at('demo/plugins'), at('examples/wasm-c-worker'), at('examples/native-c-process')],
  logger: stderrLogger('warn'),
})
const dashboard = await host.serveDashboard()
const app = await serveWorkbench(host, dashboard, Number(values.port))
process.stdout.write(`polyplug workbench: ${app.url}\ndashboard:          ${dashboard.openUrl}\nmetrics:            ${dashboard.url}metrics\n`)

async function stop(): Promise<void> {
  await app.close()
  await host.close()
}

if (once) {
  let failed = 0
  for (const feature of FEATURES) {
    const response = await fetch(`${app.url}api/run/${feature.id}`, { method: 'POST', body: JSON.stringify({ text: feature.example }) })
    const answer = (await response.json()) as { ms?: number; result?: unknown; error?: { code: string; message: string } }
    if (answer.error) failed++
    const shown = answer.error ? `FAILED ${answer.error.code}: ${answer.error.message}` : JSON.stringify(answer.result)
    process.stdout.write(`\n${feature.title} — ${feature.plugin} (${feature.how})${answer.ms === undefined ? '' : `, ${answer.ms.toFixed(1)} ms`}\n  ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}\n`)
  }
  await stop()
  process.stdout.write(`\n${FEATURES.length - failed} of ${FEATURES.length} features answered.\n`)
  // Then the conformance matrix (also `npm run matrix`): every example, with a "skipped" row for each
  // one this machine cannot build, naming what to install.
  process.stdout.write('\nThe conformance matrix: every plugin in examples/\n')
  await import('./matrix.js')
  if (failed > 0) process.exitCode = 1
} else {
  process.stdout.write('Ctrl-C stops every plugin and exits.\n')
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await stop()
  process.stdout.write('stopped: every plugin is down.\n')
}
