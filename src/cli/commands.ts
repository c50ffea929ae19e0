import { createHost, Host } from '../host/host.js'
import { silentLogger } from '../host/log.js'
import { cliLogger } from './verbosity.js'
import { parseArgsJson, printOutcome, UsageError } from './output.js'
import { formatTable } from './table.js'

/** Lists every contributed command from the manifests; no plugin code runs. */
export async function runCommands(plugins: string[], json: boolean): Promise<number> {
  // Discovery only: createHost would also start the onStartup plugins.
  const host = new Host({ plugins, logger: silentLogger })
  await host.discover()
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
  const args = parseArgsJson('ARGS_JSON', argsJson, 'arguments')
  const host = await createHost({ plugins, logger: cliLogger() })
  try {
    return await printOutcome(() => host.commands.execute(command, ...args))
  } finally {
    await host.close()
  }
}
