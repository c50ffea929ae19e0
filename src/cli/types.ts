/** `polyplug types DIR [--out FILE]`: the .d.ts of a plugin's declared methods (src/types/dts.ts), to stdout or a file. */
import { writeFile } from 'node:fs/promises'
import { readManifest } from '../manifest/load.js'
import { emitDts } from '../types/dts.js'
import { UsageError } from './output.js'

export async function runTypes(positionals: string[], out: string | undefined): Promise<number> {
  const [dir, extra] = positionals
  if (!dir || extra !== undefined) throw new UsageError('types needs one DIR (a plugin folder)')
  const loaded = await readManifest(dir)
  const text = emitDts(loaded.manifest)
  if (out) await writeFile(out, text)
  else process.stdout.write(text)
  return 0
}
