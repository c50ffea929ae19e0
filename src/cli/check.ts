/** `polyplug check DIR...`: the plugin checks (src/check/) on any plugin folder, or on each plugin in a folder of plugins. */
import { discoverPlugins } from '../manifest/load.js'
import { checkPlugin, type CheckReport, type CheckResult } from '../check/run.js'
import { UsageError } from './output.js'

const mark = { pass: '✓', fail: '✗', skip: '-' } as const

function printResult(result: CheckResult): void {
  const line = `  ${mark[result.status]} ${result.name}`
  if (result.status === 'pass') process.stdout.write(`${line} (${Math.round(result.ms)} ms)\n`)
  else if (result.status === 'skip') process.stdout.write(`${line} (skipped: ${result.reason})\n`)
  else {
    process.stdout.write(`${line}\n      ${result.reason?.split('\n').join('\n      ')}\n`)
    if (result.sent !== undefined) process.stdout.write(`      sent: ${String(result.sent)}\n`)
    if (result.got !== undefined) process.stdout.write(`      got:  ${typeof result.got === 'string' ? result.got : JSON.stringify(result.got)}\n`)
  }
}

/** The plugin folders under `dir`: `dir` itself when it holds a manifest (valid or not), else each plugin folder inside. */
async function pluginDirs(dir: string): Promise<string[]> {
  const found = await discoverPlugins([dir])
  if (found.length === 0) throw new UsageError(`${dir} holds no plugin (no polyplug.json, and no folder inside holds one)`)
  return found.map((d) => (d.ok ? d.loaded.dir : d.dir))
}

export async function runCheck(positionals: string[], json: boolean): Promise<number> {
  if (positionals.length === 0) throw new UsageError('check needs DIR')
  const reports: CheckReport[] = []
  for (const root of positionals) {
    for (const dir of await pluginDirs(root)) {
      if (!json) process.stdout.write(`${dir}\n`)
      const report = await checkPlugin(dir, { onResult: json ? undefined : printResult })
      reports.push(report)
      if (!json) {
        const count = (s: CheckResult['status']) => report.results.filter((r) => r.status === s).length
        process.stdout.write(`  ${report.id ?? dir}: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped\n`)
      }
    }
  }
  if (json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`)
  return reports.every((r) => r.ok) ? 0 : 1
}
