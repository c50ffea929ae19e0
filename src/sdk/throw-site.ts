/**
 * Where a plugin's code threw: the first frame of an error's stack that is the plugin's own (not
 * Node's, not polyplug's), as file:line:column. A TypeScript file's position is mapped back through
 * the source map its transpiled output carries (src/kinds/ts-source-map.ts), so the line is the one
 * the author wrote. Read only on a failure path; anything it cannot tell is simply left out.
 */
import { fileURLToPath } from 'node:url'

export interface ThrowSite {
  file: string
  line: number
  column: number
}

/** polyplug's own compiled sources (dist/src/ or src/): frames there are not the plugin's. */
const ownRoot = fileURLToPath(new URL('../', import.meta.url))

/** `    at fn (file:///a/b.js:3:9)` or `    at file:///a/b.js:3:9` or `    at /a/b.js:3:9`. */
const FRAME = /^\s*at (?:.*? \()?((?:file:\/\/|\/)[^()]*?):(\d+):(\d+)\)?$/

function frames(stack: string): ThrowSite[] {
  const found: ThrowSite[] = []
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line)
    if (!match) continue
    let file = match[1]!
    if (file.startsWith('file:')) {
      const url = new URL(file)
      url.search = '' // a reloaded module's generation (js-reload-hooks.ts)
      file = fileURLToPath(url)
    }
    found.push({ file, line: Number(match[2]), column: Number(match[3]) })
  }
  return found
}

/** The plugin's own frame nearest the throw, TypeScript positions mapped to the source; undefined when there is none. */
export async function throwSite(error: unknown): Promise<ThrowSite | undefined> {
  const stack = error instanceof Error ? error.stack : undefined
  if (typeof stack !== 'string') return undefined
  const site = frames(stack).find((f) => !f.file.startsWith(ownRoot))
  if (!site || !/\.[mc]?ts$/.test(site.file)) return site
  try {
    const { originalPosition } = await import('../kinds/ts-source-map.js')
    return { file: site.file, ...((await originalPosition(site.file, site.line, site.column)) ?? site) }
  } catch {
    return site // no typescript here, or the file changed: the transpiled position is still a pointer
  }
}
