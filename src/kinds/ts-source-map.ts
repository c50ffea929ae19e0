/**
 * Maps a position in a transpiled TypeScript file (what V8 reports in a stack, since ts-hooks.ts
 * loads the transpiled text under the .ts file's URL) back to the line and column in the .ts
 * source, through the inline source map the transpiled text carries. Process-wide source-map
 * support (--enable-source-maps) is left alone: an inline plugin shares the host's process.
 */
import { readFile } from 'node:fs/promises'
import { SourceMap, type SourceMapPayload } from 'node:module'
import { cacheDir, cacheKey, readCached } from './ts-cache.js'
import { COMPILER_OPTIONS, transpile } from './ts-hooks.js'

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/

/** The 1-based line and column in `file` (a .ts source) of 1-based `line`:`column` in its transpiled text. */
export async function originalPosition(file: string, line: number, column: number): Promise<{ line: number; column: number } | undefined> {
  const source = await readFile(file, 'utf8')
  const dir = cacheDir()
  const output = (dir ? readCached(dir, cacheKey(file, source, COMPILER_OPTIONS)) : undefined) ?? transpile(file, source)
  const inline = INLINE_MAP.exec(output)
  if (!inline) return undefined
  const map = new SourceMap(JSON.parse(Buffer.from(inline[1]!, 'base64').toString('utf8')) as SourceMapPayload)
  const entry = map.findEntry(line - 1, column - 1) as { originalLine?: number; originalColumn?: number }
  if (entry.originalLine === undefined || entry.originalColumn === undefined) return undefined
  return { line: entry.originalLine + 1, column: entry.originalColumn + 1 }
}
