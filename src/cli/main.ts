/** `polyplug` command line: list, call, validate. */
import { parseArgs } from 'node:util'
import { runCall } from './call.js'
import { runList } from './list.js'
import { runValidate } from './validate.js'

const usage = `polyplug — a plugin host for Node.js

Usage:
  polyplug list --plugins DIR [--json]
  polyplug call --plugins DIR ID METHOD [PARAMS_JSON] [--timeout MS]
  polyplug validate DIR

PARAMS_JSON is a JSON array of positional arguments, e.g. '["hi"]'.
`

export class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plugins: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const [command, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(usage)
    return command || values.help ? 0 : 2
  }
  const plugins = values.plugins ?? []
  switch (command) {
    case 'list':
      return runList(requirePlugins(plugins), values.json ?? false)
    case 'call':
      return runCall(requirePlugins(plugins), rest, values.timeout === undefined ? undefined : Number(values.timeout))
    case 'validate':
      return runValidate(rest)
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

function requirePlugins(plugins: string[]): string[] {
  if (plugins.length === 0) throw new UsageError('--plugins DIR is required')
  return plugins
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`polyplug: ${(error as Error).message}\n\n${usage}`)
      process.exitCode = 2
      return
    }
    process.stderr.write(`polyplug: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = 1
  },
)
