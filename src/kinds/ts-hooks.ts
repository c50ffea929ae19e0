/**
 * Module customization hooks (node:module `register`) that let a JS-kind plugin be written in
 * TypeScript: its `.ts`/`.mts` files are transpiled on load with TypeScript's own
 * `transpileModule` (types stripped, no type checking: run `tsc --noEmit` for that). Imports
 * follow TypeScript's NodeNext convention: `./util.js` finds `./util.ts` when only that exists.
 * Registered by src/kinds/js.ts the first time a thread loads a `.ts` entry.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { LoadResult, NextResolve, ResolveContext, ResolveResult } from './hook-types.js'
import { cacheDir, cacheKey, readCached, writeCached } from './ts-cache.js'

const TS_FILE = /\.m?ts$/
const JS_FILE = /\.m?js$/

type TypeScript = typeof import('typescript')
let ts: TypeScript | undefined

function pathOf(url: string): string {
  const u = new URL(url)
  u.search = ''
  u.hash = ''
  return fileURLToPath(u)
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult> {
  const parent = context.parentURL
  if (parent?.startsWith('file:') && TS_FILE.test(pathOf(parent)) && specifier.startsWith('.') && JS_FILE.test(specifier)) {
    const asTs = new URL(specifier.replace(/js$/, 'ts'), parent)
    if (!existsSync(new URL(specifier, parent)) && existsSync(asTs)) return nextResolve(asTs.href, context)
  }
  return nextResolve(specifier, context)
}

export async function load(
  url: string,
  context: { format?: string | null },
  nextLoad: (url: string, context: { format?: string | null }) => Promise<LoadResult>,
): Promise<LoadResult> {
  if (!url.startsWith('file:') || !TS_FILE.test(pathOf(url))) return nextLoad(url, context)
  const file = pathOf(url)
  const source = await readFile(file, 'utf8')
  const dir = cacheDir()
  const key = dir ? cacheKey(file, source, COMPILER_OPTIONS) : ''
  const cached = dir ? readCached(dir, key) : undefined
  if (cached !== undefined) return { format: 'module', source: cached, shortCircuit: true }
  const output = transpile(file, source)
  if (dir) writeCached(dir, key, output)
  return { format: 'module', source: output, shortCircuit: true }
}

/** Options as plain values, so the cache key does not need the typescript package loaded. */
export const COMPILER_OPTIONS = { module: 'ESNext', target: 'ES2022', sourceMap: false, inlineSourceMap: true, inlineSources: true }

export function transpile(file: string, source: string): string {
  // require, not import: importing this 9 MB CommonJS file from ESM scans it for named exports
  // first, which triples the load time (about 0.9 s against 0.3 s here).
  ts ??= createRequire(import.meta.url)('typescript') as TypeScript
  const typescript = ts
  const output = typescript.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      sourceMap: false,
      inlineSourceMap: true,
      inlineSources: true,
    },
  })
  // transpileModule recovers from syntax errors and emits something anyway: refuse instead.
  const errors = (output.diagnostics ?? []).filter((d) => d.category === typescript.DiagnosticCategory.Error)
  if (errors.length > 0) {
    const where = (d: (typeof errors)[number]) => {
      if (!d.file || d.start === undefined) return file
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
      return `${file}:${line + 1}:${character + 1}`
    }
    throw new SyntaxError(errors.map((d) => `${where(d)}: ${typescript.flattenDiagnosticMessageText(d.messageText, ' ')}`).join('\n'))
  }
  return output.outputText
}
