/** What the CLI commands that run plugin code share: argument parsing and printing one outcome. */
import { stringify } from '../rpc/codec.js'
import { toPolyplugError } from '../rpc/errors.js'

/** Wrong command-line use: main prints the usage and exits 2. Here, not in main.ts, which runs on import. */
export class UsageError extends Error {}

/** Parses an optional JSON array of positional arguments named `name` in the usage text. */
export function parseArgsJson(name: string, text: string | undefined, what = 'positional arguments'): unknown[] {
  if (text === undefined) return []
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message}`)
  }
  if (!Array.isArray(value)) throw new UsageError(`${name} must be a JSON array of ${what}`)
  return value
}

/** Prints a result as JSON on stdout (exit 0), or `CODE: message (plugin, method)` on stderr (exit 1). */
export async function printOutcome(run: () => Promise<unknown>): Promise<number> {
  try {
    process.stdout.write(`${stringify((await run()) ?? null)}\n`)
    return 0
  } catch (error) {
    const e = toPolyplugError(error)
    process.stderr.write(`${e.code}: ${e.message}${e.plugin ? ` (plugin ${e.plugin}${e.method ? `, method ${e.method}` : ''})` : ''}\n`)
    return 1
  }
}
