import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Writes a self-contained JS plugin under `parent`: `greet(name)` answers with a word kept in a
 * second file. In a worker unless `extra` says otherwise; `extra` is merged into the manifest
 * (placement, dependencies, contributes...).
 */
export async function writeGreeter(parent: string, options: { id?: string; version: string; word: string; extra?: Record<string, unknown> }): Promise<string> {
  const id = options.id ?? 'greet'
  const dir = join(parent, `src-${id}-${options.version}-${options.word}`)
  await mkdir(join(dir, 'lib'), { recursive: true })
  const manifest = { id, version: options.version, kind: 'js', entry: 'index.js', placement: 'worker', ...options.extra }
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify(manifest))
  await writeFile(join(dir, 'index.js'), "import { word } from './lib/word.js'\nexport default { methods: { greet: (name) => `${word}, ${name}` } }\n")
  await writeFile(join(dir, 'lib', 'word.js'), `export const word = ${JSON.stringify(options.word)}\n`)
  return dir
}
