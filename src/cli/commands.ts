import { createHost } from '../host/host.js'
import { silentLogger, stderrLogger } from '../host/log.js'
import { stringify } from '../rpc/codec.js'
import { toPolyplugError } from '../rpc/errors.js'
import { UsageError } from './main.js'
import { formatTable } from './table.js'

/** Lists every contributed command from the manifests; no plugin code runs. */
export async function runCommands(plugins: string[], json: boolean): Promise<number> {
  const host = await createHost({ plugins, logger: silentLogger })
  const commands = host.commands.list()
  if (json) process.stdout.write(`${JSON.stringify(commands, null, 2)}\n`)
  else process.stdout.write(formatTable(['command', 'plugin', 'title', 'available'], commands.map((c) => [c.id, c.plugin, c.title ?? '', String(c.available)])))
  await host.close()
  return 0
}

/** Runs one contributed command (activating its plugin) and prints the JSON result. */
export async function runExec(plugins: string[], positionals: string[]): Promise<number> {
  const [command, argsJson] = positionals
  if (!command) throw new UsageError('exec needs COMMAND')
  let args: unknown = []
  if (argsJson !== undefined) {
    try {
      args = JSON.parse(argsJson)
    } catch (error) {
      throw new UsageError(`ARGS_JSON is not valid JSON: ${(error as Error).message}`)
    }
    if (!Array.isArray(args)) throw new UsageError('ARGS_JSON must be a JSON array of arguments')
  }
  const host = await createHost({ plugins, logger: stderrLogger('warn') })
  try {
    const result = await host.commands.execute(command, ...(args as unknown[]))
    process.stdout.write(`${stringify(result ?? null)}\n`)
    return 0
  } catch (error) {
    const e = toPolyplugError(error)
    process.stderr.write(`${e.code}: ${e.message}${e.plugin ? ` (plugin ${e.plugin})` : ''}\n`)
    return 1
  } finally {
    await host.close()
  }
}
