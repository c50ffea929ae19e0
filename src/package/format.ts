/**
 * The plugin package format (docs/packaging.md): a gzip'd tar of the plugin folder with
 * `.polyplug-package.json` at its root, listing every file with its size and SHA-256. Installing
 * checks the archive against that list, so a package altered after packing is refused.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { PACKAGE_SIGNATURE } from './signing.js'

export const PACKAGE_META = '.polyplug-package.json'
export const PACKAGE_FORMAT = 1
export const PACKAGE_EXTENSION = '.polyplug.tgz'
/** Never packed: version control, earlier packages, and the metadata we write ourselves. */
const SKIPPED = new Set(['.git', '.hg', '.svn', PACKAGE_META, PACKAGE_SIGNATURE])

export interface PackageFile {
  size: number
  sha256: string
}

export interface PackageMeta {
  format: number
  id: string
  version: string
  /** Relative POSIX paths, sorted. */
  files: Record<string, PackageFile>
}

export function packageError(message: string, data?: Record<string, unknown>, plugin?: string): PolyplugError {
  return new PolyplugError(ErrorCodes.PACKAGE_INVALID, message, { plugin, data })
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Every regular file under `root` as a relative POSIX path, sorted. Symbolic links and special
 * files are refused: a package must not point outside itself.
 */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = []
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name) || (prefix === '' && entry.name.endsWith(PACKAGE_EXTENSION))) continue
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name
      const abs = join(dir, entry.name)
      const stat = await lstat(abs)
      if (stat.isDirectory()) await walk(abs, rel)
      else if (stat.isFile()) out.push(rel)
      else throw packageError(`${rel} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; packages hold regular files only`, { path: rel })
    }
  }
  await walk(root, '')
  return out.sort()
}

/** A safe relative path inside a package: no absolute paths, no `..`, no empty or odd segments. */
export function isSafePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false
  const clean = path.replace(/\/+$/, '')
  return clean.split('/').every((part) => part !== '' && part !== '.' && part !== '..') && posix.normalize(clean) === clean
}

/** Joins a checked relative POSIX path to a native directory. */
export function nativePath(root: string, rel: string): string {
  return join(root, ...rel.split('/'))
}
