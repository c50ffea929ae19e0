/**
 * The prebuilt manifest validator (manifest-validator.cjs, Ajv standalone code that `npm run build`
 * writes) loaded with the V8 code cache the build writes beside it, so that a host's start does not
 * compile its 130 KB again: V8 compiles the validator's one large function on its first call, which
 * every host makes at start (each plugin folder's manifest is validated by createHost).
 *
 * How the cache is produced and when it is not used:
 * - `npm run build` (scripts/manifest-validator.mjs) compiles the file with `vm.Script`, validates
 *   one manifest with it so that V8 has compiled the function, and writes `createCachedData()`.
 *   The run time only reads it; nothing writes a cache outside the build.
 * - The cache file holds the validator's exact source before the cache bytes; a cache whose source
 *   is not, byte for byte, the file's is not used (V8 itself checks only the source's length).
 * - V8 rejects a cache made by another V8 version or under other V8 flags (a host started with
 *   another Node, or with flags such as `--expose-gc`): the file is then compiled as without a cache.
 * Either way the validator is the same code; only its compile time differs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'
import type { ValidateFunction } from 'ajv'
import type { ManifestInput } from './schema.js'

export type PrebuiltValidator = ValidateFunction<ManifestInput> & { schemaKey?: string }

/** How the file was compiled: with the build's cache, or from source (no cache, another source, or V8 rejected it). */
export type CacheUse = 'used' | 'none' | 'stale' | 'rejected'

/** The code cache's file beside the validator's. */
export const cacheFileOf = (file: URL): URL => new URL(`${file.href}.v8cache`)

/** The validator file as a function of `module` (it needs no `require`: the build inlines Ajv's one runtime helper). */
function scriptOf(file: URL, source: Buffer, cachedData?: Buffer): Script {
  return new Script(`(function (module, exports) {${source.toString('utf8')}\n})`, { filename: fileURLToPath(file), cachedData })
}

function run(script: Script): PrebuiltValidator {
  const module = { exports: {} as PrebuiltValidator }
  ;(script.runInThisContext() as (m: typeof module, e: unknown) => void)(module, module.exports)
  return module.exports
}

/** The cache's bytes when it was made from exactly `source`. */
function cacheFor(file: URL, source: Buffer): Buffer | undefined {
  const cacheFile = cacheFileOf(file)
  if (!existsSync(cacheFile)) return undefined
  const stored = readFileSync(cacheFile)
  if (stored.length < 4) return Buffer.alloc(0)
  const length = stored.readUInt32LE(0)
  return stored.subarray(4, 4 + length).equals(source) ? stored.subarray(4 + length) : Buffer.alloc(0)
}

/** Loads the prebuilt validator `file`, with the build's code cache when it matches. */
export function loadPrebuilt(file: URL): { validate: PrebuiltValidator; cache: CacheUse } {
  const source = readFileSync(file)
  const cached = cacheFor(file, source)
  if (cached === undefined || cached.length === 0) return { validate: run(scriptOf(file, source)), cache: cached ? 'stale' : 'none' }
  const script = scriptOf(file, source, cached)
  return { validate: run(script), cache: script.cachedDataRejected ? 'rejected' : 'used' }
}

/** The build's step: compiles `file`, runs the validator over `warm` (so its function is compiled), and writes the cache. */
export function writePrebuiltCache(file: URL, warm: unknown): void {
  const source = readFileSync(file)
  const script = scriptOf(file, source)
  run(script)(warm)
  const length = Buffer.alloc(4)
  length.writeUInt32LE(source.length, 0)
  writeFileSync(cacheFileOf(file), Buffer.concat([length, source, script.createCachedData()]))
}
