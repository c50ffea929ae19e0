/** `polyplug pack`, `install` and `uninstall`: the CLI face of src/package. */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateSigningKeys, installPackage, packPlugin, uninstallPlugin } from '../package/index.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { UsageError } from './output.js'

export async function runPack(positionals: string[], options: { out?: string | undefined; sign?: string | undefined; json: boolean }): Promise<number> {
  const [dir] = positionals
  if (!dir) throw new UsageError('pack needs DIR')
  return report(options.json, async () => {
    const signWith = options.sign === undefined ? undefined : await readFile(options.sign, 'utf8')
    const result = await packPlugin(dir, { ...(options.out === undefined ? {} : { out: options.out }), ...(signWith ? { signWith } : {}) })
    const signed = result.keyId ? `, signed by ${result.keyId}` : ''
    return [result, `packed ${result.id}@${result.version}: ${result.files} files, ${result.bytes} bytes${signed} -> ${result.file}`]
  })
}

export async function runInstall(plugins: string[], positionals: string[], options: { force: boolean; trust: string[]; json: boolean }): Promise<number> {
  const [file] = positionals
  if (!file) throw new UsageError('install needs FILE')
  return report(options.json, async () => {
    const trustedKeys = await Promise.all(options.trust.map((path) => readFile(path, 'utf8')))
    const result = await installPackage(file, plugins[0]!, { force: options.force, ...(trustedKeys.length ? { trustedKeys } : {}) })
    const how = result.replaced ? ` (replaced ${result.replaced})` : ''
    const signed = result.keyId ? `, signed by ${result.keyId}` : ''
    return [result, `installed ${result.id}@${result.version} in ${result.dir}${how}${signed}`]
  })
}

/** Writes a new Ed25519 signing key pair into DIR: polyplug-signing.key (0600) and polyplug-signing.pub. */
export async function runKeygen(positionals: string[], json: boolean): Promise<number> {
  const [dir] = positionals
  if (!dir) throw new UsageError('keygen needs DIR')
  return report(json, async () => {
    const keys = generateSigningKeys()
    const privatePath = join(dir, 'polyplug-signing.key')
    const publicPath = join(dir, 'polyplug-signing.pub')
    await mkdir(dir, { recursive: true })
    // wx: never overwrite a key someone may have signed with.
    const refuse = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error
      throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `${dir} already holds a signing key; not overwriting it`)
    }
    await writeFile(privatePath, keys.privateKey, { mode: 0o600, flag: 'wx' }).catch(refuse)
    await writeFile(publicPath, keys.publicKey, { flag: 'wx' }).catch(refuse)
    return [{ keyId: keys.keyId, privateKey: privatePath, publicKey: publicPath }, `key ${keys.keyId}: private ${privatePath}, public ${publicPath}`]
  })
}

export async function runUninstall(plugins: string[], positionals: string[], json: boolean): Promise<number> {
  const [id] = positionals
  if (!id) throw new UsageError('uninstall needs ID')
  return report(json, async () => {
    const result = await uninstallPlugin(id, plugins[0]!)
    return [result, `uninstalled ${result.id}@${result.version} from ${result.dir}`]
  })
}

/** Prints the outcome (JSON or a line); a PolyplugError is "CODE: message" on stderr and exit 1. */
async function report(json: boolean, run: () => Promise<[unknown, string]>): Promise<number> {
  try {
    const [result, line] = await run()
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${line}\n`)
    return 0
  } catch (error) {
    if (!(error instanceof PolyplugError)) throw error
    process.stderr.write(`${error.code}: ${error.message}\n`)
    return 1
  }
}
