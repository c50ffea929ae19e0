import { stat } from 'node:fs/promises'
import { discoverPlugins, type Discovered } from '../manifest/load.js'
import { runnableProblems } from '../manifest/runnable.js'
import { ManifestError } from '../manifest/validate.js'
import { UsageError } from './output.js'

/**
 * `polyplug validate DIR...`: each DIR is a plugin folder, or a folder of plugin folders (as
 * `--plugins` takes). For each plugin: its manifest, field by field, and that its program can run
 * (src/manifest/runnable.ts). Valid ones print `ok:` on stdout, invalid ones their problems on
 * stderr; exit 1 when any is invalid.
 */
export async function runValidate(positionals: string[]): Promise<number> {
  if (positionals.length === 0) throw new UsageError('validate needs DIR (a plugin folder, or a folder of plugin folders)')
  for (const dir of positionals) {
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new UsageError(`${dir} is not a folder; validate takes a plugin folder, or a folder of plugin folders`)
  }
  const found = await discoverPlugins(positionals)
  if (found.length === 0) {
    process.stderr.write(`no plugin in ${positionals.join(', ')}: neither a polyplug.json (or a "polyplug" field in package.json) there nor in a folder directly inside\n`)
    return 1
  }
  let invalid = 0
  for (const plugin of found) {
    const problem = await problemOf(plugin)
    if (problem) {
      invalid++
      process.stderr.write(`${problem.message}\n`)
    } else if (plugin.ok) {
      const { manifest } = plugin.loaded
      process.stdout.write(`ok: ${manifest.id}@${manifest.version} (${manifest.kind}, ${manifest.placement}, ${manifest.transport}) ${plugin.loaded.dir}\n`)
    }
  }
  if (found.length > 1) process.stdout.write(`${found.length - invalid} valid, ${invalid} invalid\n`)
  return invalid > 0 ? 1 : 0
}

async function problemOf(plugin: Discovered): Promise<ManifestError | undefined> {
  if (!plugin.ok) return plugin.error
  const problems = await runnableProblems(plugin.loaded)
  return problems.length > 0 ? new ManifestError(plugin.loaded.file, problems, plugin.loaded.manifest.id) : undefined
}
