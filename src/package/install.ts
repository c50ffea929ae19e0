/**
 * `polyplug install`: unpacks a package into a plugins folder as `<folder>/<id>`, or refuses
 * it and leaves the folder exactly as it was. The archive is checked twice: its listing (only
 * files and directories, safe relative paths, bounded size and count) before anything is
 * written, and its contents against `.polyplug-package.json` (every file, size and SHA-256, no
 * extras) in a staging folder beside the target. Only then is the target swapped in by rename.
 */
import { chmod, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import semver from 'semver'
import * as tar from 'tar'
import { readManifest } from '../manifest/load.js'
import { PLUGIN_ID_PATTERN } from '../manifest/patterns.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { PACKAGE_SIGNATURE, verifyMeta, type KeyInput, type PackageSignature } from './signing.js'
import { isSafePath, listFiles, nativePath, PACKAGE_FORMAT, PACKAGE_META, packageError, sha256File, type PackageMeta } from './format.js'

export interface InstallOptions {
  /** Replace an installed copy of the same or a newer version. Default false (only upgrades). */
  force?: boolean
  /** Largest total unpacked size accepted. Default 1 GiB. */
  maxBytes?: number
  /** Most entries accepted. Default 100 000. */
  maxEntries?: number
  /** Ed25519 public keys (PEM or KeyObject). When given, only packages signed by one of them install. */
  trustedKeys?: readonly KeyInput[]
}

export interface InstallResult {
  id: string
  version: string
  dir: string
  /** The version this replaced, if any. */
  replaced?: string
  /** The trusted key that signed the package, when the host checks signatures. */
  keyId?: string
}

export async function installPackage(file: string, pluginsDir: string, options: InstallOptions = {}): Promise<InstallResult> {
  const root = resolve(pluginsDir)
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) throw packageError(`${root} is not a directory`, { pluginsDir: root })
  await checkListing(file, options.maxBytes ?? 2 ** 30, options.maxEntries ?? 100_000)
  // Staged beside the target, so the final rename stays on one file system.
  const staging = await mkdtemp(join(root, '.polyplug-install-'))
  try {
    await tar.x({ file, cwd: staging, strict: true, preserveOwner: false, noChmod: false })
    const { meta, bytes } = await readMeta(staging)
    const signer = options.trustedKeys?.length ? verifyMeta(bytes, await readSignature(staging), options.trustedKeys, meta.id) : undefined
    await verifyContents(staging, meta)
    const { manifest } = await readManifest(staging)
    if (manifest.id !== meta.id || manifest.version !== meta.version) {
      throw packageError(`the package says ${meta.id}@${meta.version} but its manifest is ${manifest.id}@${manifest.version}`, { meta: { id: meta.id, version: meta.version } }, manifest.id)
    }
    const target = join(root, manifest.id)
    const replaced = await checkTarget(target, manifest.id, manifest.version, options.force ?? false)
    await chmod(staging, 0o755) // mkdtemp made it private; an installed plugin is an ordinary folder
    await swapIn(staging, target)
    return { id: manifest.id, version: manifest.version, dir: target, ...(replaced ? { replaced } : {}), ...(signer ? { keyId: signer } : {}) }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** Removes the installed plugin `id` from `pluginsDir` (the folder `install` made). */
export async function uninstallPlugin(id: string, pluginsDir: string): Promise<{ id: string; version: string; dir: string }> {
  // Plugin ids have no path separators (the manifest schema's pattern); anything else is no plugin here.
  const target = join(resolve(pluginsDir), id)
  const loaded = new RegExp(PLUGIN_ID_PATTERN).test(id) ? await readManifest(target).catch(() => undefined) : undefined
  if (!loaded || loaded.manifest.id !== id) {
    throw new PolyplugError(ErrorCodes.PLUGIN_NOT_FOUND, `no plugin ${id} is installed in ${resolve(pluginsDir)}`, { plugin: id })
  }
  await rm(target, { recursive: true, force: true })
  return { id, version: loaded.manifest.version, dir: target }
}

/** Reads the archive's headers only: nothing is written until they all pass. */
async function checkListing(file: string, maxBytes: number, maxEntries: number): Promise<void> {
  let total = 0
  let entries = 0
  let problem: PolyplugError | undefined
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry(entry) {
        if (problem) return
        entries++
        total += entry.size ?? 0
        if (entry.type !== 'File' && entry.type !== 'Directory') problem = packageError(`${entry.path} is a ${entry.type} entry; packages hold files and directories only`, { path: entry.path })
        else if (!isSafePath(entry.path)) problem = packageError(`unsafe path ${JSON.stringify(entry.path)} in the package`, { path: entry.path })
        else if (entries > maxEntries) problem = packageError(`the package has more than ${maxEntries} entries`, { maxEntries })
        else if (total > maxBytes) problem = packageError(`the package unpacks to more than ${maxBytes} bytes`, { maxBytes })
      },
    })
  } catch (cause) {
    if (cause instanceof PolyplugError) throw cause
    throw new PolyplugError(ErrorCodes.PACKAGE_INVALID, `${file} is not a readable package: ${(cause as Error).message}`, { cause, data: { file } })
  }
  if (problem) throw problem
  if (entries === 0) throw packageError(`${file} is empty`, { file })
}

/** The package's file list, parsed, and its exact bytes (what a signature covers). */
async function readMeta(staging: string): Promise<{ meta: PackageMeta; bytes: Uint8Array }> {
  const bytes = await readFile(join(staging, PACKAGE_META)).catch(() => undefined)
  if (bytes === undefined) throw packageError(`the package has no ${PACKAGE_META}`)
  let meta: PackageMeta
  try {
    meta = JSON.parse(bytes.toString('utf8')) as PackageMeta
  } catch {
    throw packageError(`${PACKAGE_META} is not valid JSON`)
  }
  if (meta?.format !== PACKAGE_FORMAT || typeof meta.files !== 'object' || meta.files === null) {
    throw packageError(`${PACKAGE_META} has format ${JSON.stringify(meta?.format)}; this host reads format ${PACKAGE_FORMAT}`)
  }
  return { meta, bytes }
}

async function readSignature(staging: string): Promise<PackageSignature | undefined> {
  const text = await readFile(join(staging, PACKAGE_SIGNATURE), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as PackageSignature
  } catch {
    throw packageError(`${PACKAGE_SIGNATURE} is not valid JSON`)
  }
}

/** The unpacked files are exactly those listed, with the listed sizes and digests. */
async function verifyContents(staging: string, meta: PackageMeta): Promise<void> {
  const present = await listFiles(staging)
  const listed = Object.keys(meta.files).sort()
  const extra = present.filter((path) => !(path in meta.files))
  const have = new Set(present)
  const missing = listed.filter((path) => !have.has(path))
  if (extra.length > 0 || missing.length > 0) throw packageError('the package does not hold the files it lists', { extra, missing })
  for (const path of listed) {
    const expected = meta.files[path]!
    const abs = nativePath(staging, path)
    const size = (await stat(abs)).size
    const sha256 = size === expected.size ? await sha256File(abs) : undefined
    if (sha256 !== expected.sha256) throw packageError(`${path} does not match its digest: the package was altered after packing`, { path })
  }
}

/** What may be replaced at `target`: nothing, or an older copy of the same plugin (any copy with force). */
async function checkTarget(target: string, id: string, version: string, force: boolean): Promise<string | undefined> {
  if (!(await stat(target).catch(() => undefined))) return undefined
  const installed = await readManifest(target).catch(() => undefined)
  if (!installed) {
    if (force) return undefined
    throw new PolyplugError(ErrorCodes.PACKAGE_CONFLICT, `${target} exists and holds no valid plugin; use --force to replace it`, { plugin: id })
  }
  const current = installed.manifest
  if (current.id !== id) {
    throw new PolyplugError(ErrorCodes.PACKAGE_CONFLICT, `${target} holds another plugin (${current.id}); not replacing it`, { plugin: id, data: { installed: current.id } })
  }
  if (!force && !semver.gt(version, current.version)) {
    throw new PolyplugError(ErrorCodes.PACKAGE_CONFLICT, `${id}@${current.version} is installed; ${version} is not newer (use --force to replace it)`, {
      plugin: id,
      data: { installed: current.version, package: version },
    })
  }
  return current.version
}

/** Renames the staged folder into place; the old copy is moved aside first and restored if that fails. */
async function swapIn(staging: string, target: string): Promise<void> {
  const exists = await stat(target).catch(() => undefined)
  if (!exists) return rename(staging, target)
  // Dot-named: plugin discovery skips hidden folders, so a host scanning meanwhile sees one copy.
  const aside = join(dirname(target), `.polyplug-old-${basename(target)}-${process.pid}-${Date.now()}`)
  await rename(target, aside)
  try {
    await rename(staging, target)
  } catch (error) {
    await rename(aside, target)
    throw error
  }
  await rm(aside, { recursive: true, force: true })
}

