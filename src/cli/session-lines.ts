/**
 * What `polyplug dev` adds to the session's JSON lines (./session.ts serveLines) for a person at a
 * terminal: shorthand calls, and a choice among several plugins.
 *
 *   METHOD [PARAMS_JSON]          a call to the session's plugin (when it runs one)
 *   ID METHOD [PARAMS_JSON]       a call to plugin ID
 *   {"plugin": ID, ...}           any session line, for plugin ID ("plugin" optional with one plugin)
 *
 * A shorthand call is numbered like a JSON call ({"id": n, ...}), so its answer is `{"id":n,"result":...}`.
 */
import type { Host } from '../host/host.js'
import { parseArgsJson, UsageError } from './output.js'
import type { Line, LineTarget, Shorthand } from './session.js'

/** The first word of `text` and the rest, trimmed. */
function splitWord(text: string): [string, string] {
  const at = text.search(/\s/)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at).trim()]
}

/** Reads `METHOD [PARAMS_JSON]` and `ID METHOD [PARAMS_JSON]` lines, numbering the calls. */
export function shorthandCalls(): Shorthand {
  let next = 1
  return (text: string): Line | undefined => {
    const [first, rest] = splitWord(text.trim())
    if (first === '' || first.startsWith('{') || first.startsWith('[')) return undefined
    if (rest === '' || rest.startsWith('[') || rest.startsWith('{')) return { id: next++, method: first, params: parseArgsJson('PARAMS_JSON', rest || undefined) }
    const [method, json] = splitWord(rest)
    return { id: next++, plugin: first, method, params: parseArgsJson('PARAMS_JSON', json || undefined) }
  }
}

/** A line's plugin among `ids`: the named one, or the only one. */
export function pluginTarget(host: Host, ids: readonly string[]): LineTarget {
  return (plugin) => {
    if (plugin !== undefined) return host.plugin(plugin)
    if (ids.length === 1) return host.plugin(ids[0]!)
    throw new UsageError(`several plugins are running (${ids.join(', ')}): name one, as "ID METHOD [PARAMS_JSON]" or {"plugin": ID, ...}`)
  }
}
