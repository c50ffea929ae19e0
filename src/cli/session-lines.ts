/**
 * The line protocol of an interactive session (used by `polyplug dev`): each line of input is one
 * call, answered by one line of output.
 *
 *   METHOD [PARAMS_JSON]                      call METHOD on the session's plugin (when it has one)
 *   ID METHOD [PARAMS_JSON]                   call METHOD on plugin ID
 *   {"plugin": ID, "method": M, "params": [..]}   the same as JSON ("plugin" optional with one plugin)
 *
 * The result is printed as one JSON line on stdout; an error in the CLI's error format on stderr.
 * Empty lines and lines starting with `#` are ignored.
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { Host } from '../host/host.js'
import { stringify } from '../rpc/codec.js'
import { formatError, parseArgsJson, UsageError } from './output.js'

export type SessionLine = { kind: 'call'; plugin: string; method: string; params: unknown[] } | { kind: 'skip' }

/** Parses one input line against the session's plugin ids (the first is the default). */
export function parseSessionLine(line: string, ids: readonly string[]): SessionLine {
  const text = line.trim()
  if (text === '' || text.startsWith('#')) return { kind: 'skip' }
  const pick = (id: string | undefined): string => {
    if (id !== undefined) return id
    if (ids.length === 1) return ids[0]!
    throw new UsageError(`several plugins are loaded (${ids.join(', ')}): name one, as "ID METHOD [PARAMS_JSON]" or {"plugin": ID, ...}`)
  }
  if (text.startsWith('{')) {
    let value: { plugin?: unknown; method?: unknown; params?: unknown }
    try {
      value = JSON.parse(text) as typeof value
    } catch (error) {
      throw new UsageError(`the line is not valid JSON: ${(error as Error).message}`)
    }
    const method = value.method
    if (typeof method !== 'string') throw new UsageError('a JSON line needs "method", a string')
    if (value.params !== undefined && !Array.isArray(value.params)) throw new UsageError('"params" must be a JSON array of positional arguments')
    if (value.plugin !== undefined && typeof value.plugin !== 'string') throw new UsageError('"plugin" must be a plugin id')
    return { kind: 'call', plugin: pick(value.plugin as string | undefined), method, params: (value.params as unknown[]) ?? [] }
  }
  const [first, rest] = splitWord(text)
  if (rest === '' || rest.startsWith('[') || rest.startsWith('{')) return { kind: 'call', plugin: pick(undefined), method: first, params: parseArgsJson('PARAMS_JSON', rest || undefined) }
  const [method, json] = splitWord(rest)
  return { kind: 'call', plugin: first, method, params: parseArgsJson('PARAMS_JSON', json || undefined) }
}

/** The first word of `text` and the rest, trimmed. */
function splitWord(text: string): [string, string] {
  const at = text.search(/\s/)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at).trim()]
}

/** Serves lines from `input` until it ends; each call runs as soon as its line arrives (answers may come out of order). */
export async function serveSessionLines(input: Readable, host: Host, ids: () => readonly string[]): Promise<void> {
  const pending = new Set<Promise<void>>()
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    let parsed: SessionLine
    try {
      parsed = parseSessionLine(line, ids())
    } catch (error) {
      process.stderr.write(`polyplug: ${(error as Error).message}\n`)
      continue
    }
    if (parsed.kind === 'skip') continue
    const run = host
      .plugin(parsed.plugin)
      .call(parsed.method, parsed.params)
      .then((result) => void process.stdout.write(`${stringify(result ?? null)}\n`))
    const done: Promise<void> = run.catch((error: unknown) => void process.stderr.write(formatError(error))).finally(() => pending.delete(done))
    pending.add(done)
  }
  await Promise.all(pending)
}
