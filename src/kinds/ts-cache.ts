/**
 * A cache of transpiled TypeScript, so a plugin's TS files are transpiled once rather than in
 * every thread and process that loads them (loading the typescript package alone costs ~0.3 s).
 * Entries are keyed by the SHA-256 of the typescript version, the compiler options, the file's
 * path and its source, so an edit or an upgrade misses. The folder is private: created 0700, and
 * used only while it is a real directory owned by this user that nobody else can write, since
 * whatever is in it runs as plugin code. Any failure just means no cache.
 */
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function cacheDir(): string | undefined {
  return privateCacheDir('POLYPLUG_TS_CACHE', 'polyplug-ts-cache')
}

/** A private cache folder: `$variable` ('off' for none), else `<tmp>/<name>-<uid>`; undefined when it is not safely ours. */
export function privateCacheDir(variable: string, name: string): string | undefined {
  if (process.env[variable] === 'off') return undefined
  const uid = process.getuid?.()
  const dir = process.env[variable] ?? join(tmpdir(), `${name}-${uid ?? 'user'}`)
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined
  }
  try {
    const stat = lstatSync(dir)
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) return undefined
    return dir
  } catch {
    return undefined
  }
}

let version: string | undefined

/** The version of the typescript package polyplug finds (next to polyplug, or in the application). */
export function typescriptVersion(): string {
  version ??= (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('typescript/package.json'), 'utf8')) as { version: string }).version
  return version
}

export function cacheKey(file: string, source: string, options: unknown): string {
  return createHash('sha256').update(JSON.stringify([typescriptVersion(), options, file])).update('\0').update(source).digest('hex')
}

export function readCached(dir: string, key: string): string | undefined {
  try {
    return readFileSync(join(dir, `${key}.js`), 'utf8')
  } catch {
    return undefined
  }
}

export function writeCached(dir: string, key: string, output: string): void {
  const target = join(dir, `${key}.js`)
  const temporary = `${target}.${process.pid}.tmp`
  try {
    writeFileSync(temporary, output, { mode: 0o600 })
    renameSync(temporary, target) // readers see a whole entry or none
  } catch {
    // no cache this time
  }
}
