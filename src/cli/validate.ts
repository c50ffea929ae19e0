import { stat } from 'node:fs/promises'
import { readManifest } from '../manifest/load.js'
import { ManifestError } from '../manifest/validate.js'
import { UsageError } from './output.js'

/** Checks a plugin folder: its manifest, field by field, and that its entry exists. */
export async function runValidate(positionals: string[]): Promise<number> {
  const [dir] = positionals
  if (!dir) throw new UsageError('validate needs DIR')
  try {
    const { manifest, entryPath, file } = await readManifest(dir)
    const entry = await stat(entryPath).catch(() => undefined)
    if (!entry?.isFile()) {
      process.stderr.write(`${file}: invalid plugin\n  /entry: expected an existing file, found ${JSON.stringify(manifest.entry)} (${entryPath} does not exist)\n`)
      return 1
    }
    process.stdout.write(`ok: ${manifest.id}@${manifest.version} (${manifest.kind}, ${manifest.placement}, ${manifest.transport})\n`)
    return 0
  } catch (error) {
    if (error instanceof ManifestError) {
      process.stderr.write(`${error.message}\n`)
      return 1
    }
    throw error
  }
}
