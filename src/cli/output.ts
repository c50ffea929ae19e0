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

/**
 * The CLI's error format on stderr (README "Exit codes and errors"): one line
 * `CODE: message (plugin ID, method M)`, then, for a plugin process that died, its last stderr
 * lines, each indented as `  stderr| line`.
 */
export function formatError(error: unknown): string {
  const e = toPolyplugError(error)
  const data = e.data as { stderr?: unknown } | undefined
  const stderr = typeof data?.stderr === 'string' ? data.stderr : Array.isArray(data?.stderr) ? data.stderr.join('\n') : ''
  // The host's message repeats the lines after "; last stderr lines:"; here they are shown once, marked.
  const message = stderr ? e.message.replace(`; last stderr lines:\n${stderr}`, '') : e.message
  let text = `${e.code}: ${message}${e.plugin ? ` (plugin ${e.plugin}${e.method ? `, method ${e.method}` : ''})` : ''}\n`
  if (stderr) text += `  last stderr lines of ${e.plugin ?? 'the plugin'}:\n${stderr.split('\n').map((line) => `  stderr| ${line}\n`).join('')}`
  return text
}

/** Prints a result as JSON on stdout (exit 0), or the error (formatError) on stderr (exit 1). */
export async function printOutcome(run: () => Promise<unknown>): Promise<number> {
  try {
    process.stdout.write(`${stringify((await run()) ?? null)}\n`)
    return 0
  } catch (error) {
    process.stderr.write(formatError(error))
    return 1
  }
}
