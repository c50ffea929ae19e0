/** `polyplug pack`, `install` and `uninstall`: the CLI face of src/package. */
import { installPackage, packPlugin, uninstallPlugin } from '../package/index.js'
import { PolyplugError } from '../rpc/errors.js'
import { UsageError } from './main.js'

export async function runPack(positionals: string[], out: string | undefined, json: boolean): Promise<number> {
  const [dir] = positionals
  if (!dir) throw new UsageError('pack needs DIR')
  return report(json, async () => {
    const result = await packPlugin(dir, out === undefined ? {} : { out })
    return [result, `packed ${result.id}@${result.version}: ${result.files} files, ${result.bytes} bytes -> ${result.file}`]
  })
}

export async function runInstall(plugins: string[], positionals: string[], force: boolean, json: boolean): Promise<number> {
  const [file] = positionals
  if (!file) throw new UsageError('install needs FILE')
  return report(json, async () => {
    const result = await installPackage(file, plugins[0]!, { force })
    const how = result.replaced ? ` (replaced ${result.replaced})` : ''
    return [result, `installed ${result.id}@${result.version} in ${result.dir}${how}`]
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
