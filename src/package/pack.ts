/**
 * `polyplug pack`: a plugin folder becomes `<id>-<version>.polyplug.tgz`. The manifest must be
 * valid and its entry inside the folder (a package carries everything it runs); the files are
 * staged with the metadata beside them, so the archive is exactly what was hashed.
 */
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import * as tar from 'tar'
import { readManifest } from '../manifest/load.js'
import { PACKAGE_SIGNATURE, signMeta, type KeyInput } from './signing.js'
import { packable } from './ignore.js'
import { listFiles, nativePath, PACKAGE_EXTENSION, PACKAGE_FORMAT, PACKAGE_META, packageError, sha256File, type PackageMeta } from './format.js'

export interface PackOptions {
  /** Where the archive goes: a file path, or a directory to put `<id>-<version>.polyplug.tgz` in. Default: the current directory. */
  out?: string
  /** An Ed25519 private key (PEM or KeyObject): the package carries its signature (signing.ts). */
  signWith?: KeyInput
}

export interface PackResult {
  file: string
  id: string
  version: string
  files: number
  /** Sum of the packed files' sizes. */
  bytes: number
  /** The signing key's id, when signed. */
  keyId?: string
}

export async function packPlugin(dir: string, options: PackOptions = {}): Promise<PackResult> {
  const { manifest, entryPath, dir: root } = await readManifest(dir)
  const entryRel = relative(root, entryPath)
  if (entryRel.startsWith('..') || resolve(root, entryRel) !== entryPath) {
    throw packageError(`entry ${manifest.entry} is outside the plugin folder; a package carries everything it runs`, { entry: manifest.entry }, manifest.id)
  }
  if (!(await stat(entryPath).catch(() => undefined))?.isFile()) {
    throw packageError(`entry ${manifest.entry} does not exist`, { entry: manifest.entry }, manifest.id)
  }
  const paths = await packable(root, await listFiles(root), entryRel.split(sep).join('/'))
  const meta: PackageMeta = { format: PACKAGE_FORMAT, id: manifest.id, version: manifest.version, files: {} }
  const staging = await mkdtemp(join(tmpdir(), 'polyplug-pack-'))
  try {
    let bytes = 0
    for (const rel of paths) {
      const from = nativePath(root, rel)
      const to = nativePath(staging, rel)
      await mkdir(dirname(to), { recursive: true })
      await copyFile(from, to)
      // Hash the staged copy: it is what goes into the archive, even if the source changes meanwhile.
      const size = (await stat(to)).size
      meta.files[rel] = { size, sha256: await sha256File(to) }
      bytes += size
    }
    const metaBytes = Buffer.from(`${JSON.stringify(meta, null, 2)}\n`)
    await writeFile(join(staging, PACKAGE_META), metaBytes)
    const signature = options.signWith ? signMeta(metaBytes, options.signWith) : undefined
    if (signature) await writeFile(join(staging, PACKAGE_SIGNATURE), `${JSON.stringify(signature, null, 2)}\n`)
    const file = await outputPath(options.out, `${manifest.id}-${manifest.version}${PACKAGE_EXTENSION}`)
    await tar.c({ gzip: true, file, cwd: staging, portable: true, noMtime: true }, [PACKAGE_META, ...(signature ? [PACKAGE_SIGNATURE] : []), ...paths])
    return { file, id: manifest.id, version: manifest.version, files: paths.length, bytes, ...(signature ? { keyId: signature.keyId } : {}) }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

async function outputPath(out: string | undefined, name: string): Promise<string> {
  if (!out) return resolve(name)
  const existing = await stat(out).catch(() => undefined)
  return existing?.isDirectory() ? resolve(out, name) : resolve(out)
}
