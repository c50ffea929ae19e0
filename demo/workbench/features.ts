/**
 * The workbench's features. Each is one plugin, of its own kind and language, placed where its
 * manifest says; the application only knows the plugin id and the method, never how it runs.
 */
import type { Host } from '../../src/index.js'

export interface Feature {
  id: string
  title: string
  plugin: string
  /** What the plugin is, for the page: language, kind, placement, transport. */
  how: string
  /** Input that shows the feature off (used by `--once` and the page's "example" button). */
  example: string
  run(host: Host, text: string): Promise<unknown>
}

const NUMBER = /(?<![\w.])-?\d+(?:\.\d+)?(?!\w|\.\d)/g
const numbers = (text: string) => (text.match(NUMBER) ?? []).map(Number)

/** Adds numbers one call at a time: the plugin does the arithmetic, the application only folds. */
async function fold(host: Host, plugin: string, values: number[]): Promise<number> {
  let total = 0
  for (const v of values) total = await host.plugin(plugin).call<number>('add', [total, v])
  return total
}

/** The language server needs `initialize` once per process; a restarted server (new pid) needs it again. */
const initialized = new WeakMap<Host, number>()
let documents = 0

async function withJsonDocument<T>(host: Host, text: string, work: (uri: string) => Promise<T>): Promise<T> {
  const lsp = host.plugin('json-lsp')
  await lsp.activate('workbench')
  if (initialized.get(host) !== lsp.pid()) {
    await lsp.call('initialize', [{ processId: process.pid, rootUri: null, capabilities: { textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true } } } }])
    await lsp.notify('initialized', [{}])
    initialized.set(host, lsp.pid() ?? -1)
  }
  const uri = `file:///workbench/document-${++documents}.json`
  await lsp.notify('textDocument/didOpen', [{ textDocument: { uri, languageId: 'json', version: 1, text } }])
  try {
    return await work(uri)
  } finally {
    await lsp.notify('textDocument/didClose', [{ textDocument: { uri } }])
  }
}

interface Symbol { name: string; kind: number; children?: Symbol[] }
const outline = (symbols: Symbol[], depth = 0): string[] => symbols.flatMap((s) => [`${'  '.repeat(depth)}${s.name}`, ...outline(s.children ?? [], depth + 1)])

interface TextEdit { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }

/** Applies LSP text edits (line/character positions), last first so earlier offsets stay valid. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const lineStarts = [0]
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1)
  const offset = (p: { line: number; character: number }) => (lineStarts[p.line] ?? text.length) + p.character
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))
  return sorted.reduce((out, e) => out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end)), text)
}

export const FEATURES: Feature[] = [
  {
    id: 'stats',
    title: 'Word statistics',
    plugin: 'text-stats',
    how: 'TypeScript · inline (host thread) · direct calls',
    example: 'the quick brown fox jumps over the lazy dog\nthe dog sleeps',
    run: (host, text) => host.plugin('text-stats').call('stats', [text]),
  },
  {
    id: 'csv',
    title: 'CSV column summary',
    plugin: 'csv-summary',
    how: 'Python · own process · shared-memory rings',
    example: 'city,population,area\nLyon,522250,47.87\nNantes,320732,65.19\nLille,236234,34.51',
    run: (host, text) => host.plugin('csv-summary').call('summarize', [text]),
  },
  {
    id: 'sort',
    title: 'Sort lines, drop duplicates',
    plugin: 'line-tools',
    how: 'JavaScript · own Node process · MQTT (embedded broker)',
    example: 'pear\napple\nitem 10\nitem 9\napple\nbanana',
    run: (host, text) => host.plugin('line-tools').call('sortUnique', [text]),
  },
  {
    id: 'json',
    title: 'JSON outline and formatting',
    plugin: 'json-lsp',
    how: 'an existing language server (vscode-json-language-server) · own process · LSP over stdio',
    example: '{"name":"polyplug","plugins":{"inline":1,"worker":2},"tags":["host","rpc"]}',
    run: (host, text) =>
      withJsonDocument(host, text, async (uri) => {
        const symbols = await host.plugin('json-lsp').call<Symbol[]>('textDocument/documentSymbol', [{ textDocument: { uri } }])
        const edits = await host.plugin('json-lsp').call<TextEdit[] | null>('textDocument/formatting', [{ textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }])
        return { outline: outline(symbols ?? []), formatted: applyEdits(text, edits ?? []) }
      }),
  },
  {
    id: 'sum',
    title: 'Sum of all numbers',
    plugin: 'wasm-c-worker',
    how: 'C compiled to WebAssembly · worker thread · message port',
    example: 'rent 1200, food 450.5, travel 80',
    run: async (host, text) => ({ numbers: numbers(text).length, sum: await fold(host, 'wasm-c-worker', numbers(text)) }),
  },
  {
    id: 'rows',
    title: 'Total per line',
    plugin: 'native-c-process',
    how: 'C shared library (native ABI) · own process · stdio',
    example: 'q1 10 20 30\nq2 5 5\nq3 7',
    run: async (host, text) => {
      const rows = []
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) rows.push({ line, total: await fold(host, 'native-c-process', numbers(line)) })
      return rows
    },
  },
]
