// Lint rules, including every row of the README's "Layout / may import" table: each layer of
// src/ imports only the layers that row names (docs/architecture.md).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Import patterns for each layer folder of src/. */
const layer = (name) => [`**/${name}/**`, `../${name}/*`, `../../${name}/*`]
const layers = ['rpc', 'errors', 'channels', 'framing', 'transports', 'kinds', 'placement', 'sdk', 'host', 'package', 'cli', 'manifest', 'registry', 'check', 'dashboard']
/** Every layer but `allowed`; `typesOnly` layers may still be imported with `import type`. */
function mayImport(row, allowed, { node = true, typesOnly = [], also = [] } = {}) {
  const message = `${row}: the README's layout table says this layer may import ${[...allowed, ...typesOnly.map((l) => `${l} (types)`)].join(', ') || 'nothing'} only.`
  const forbidden = layers.filter((l) => l !== row && !allowed.includes(l) && !typesOnly.includes(l))
  const patterns = [{ group: forbidden.flatMap(layer), message }]
  if (typesOnly.length) patterns.push({ group: [...typesOnly.flatMap(layer), ...also.map((a) => `!${a}`)], message, allowTypeImports: true })
  if (!node) patterns.push({ group: ['node:*'], message: `${row} runs anywhere: no Node imports.` })
  return { files: [`src/${row}/**/*.ts`], rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } }
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/**/target/**', '**/*.d.ts', 'kits/assemblyscript/**' /* AssemblyScript, compiled by asc */] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', URL: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', Buffer: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  mayImport('rpc', ['channels'], { node: false }),
  // errors: the catalog of every layer's codes (the RPC core's own stay in rpc/errors).
  mayImport('errors', [], { node: false, typesOnly: ['rpc'], also: ['**/rpc/errors.js'] }),
  // channels: rpc errors only (the other rpc modules are the Peer's).
  { ...mayImport('channels', [], { node: false, typesOnly: ['rpc'], also: ['**/rpc/errors.js'] }) },
  mayImport('framing', ['errors'], { node: false, typesOnly: ['rpc'], also: ['**/rpc/errors.js'] }),
  mayImport('transports', ['errors', 'channels', 'framing', 'rpc'], { typesOnly: ['registry'] }),
  mayImport('kinds', ['errors', 'sdk', 'rpc'], { typesOnly: ['manifest', 'registry'] }),
  mayImport('placement', ['errors', 'registry', 'kinds', 'transports', 'sdk', 'manifest', 'channels', 'framing', 'rpc']),
  mayImport('sdk', ['errors', 'rpc', 'channels', 'transports']),
  mayImport('host', ['errors', 'placement', 'registry', 'kinds', 'transports', 'sdk', 'manifest', 'package', 'channels', 'framing', 'rpc', 'dashboard']),
  mayImport('package', ['errors', 'manifest', 'rpc']),
  mayImport('check', ['errors', 'host', 'manifest', 'registry', 'rpc']),
  mayImport('cli', ['errors', 'host', 'check', 'package', 'manifest', 'rpc']),
  // dashboard: the public API (src/index.ts) only.
  mayImport('dashboard', []),
  {
    files: ['src/dashboard/client/**/*.ts', 'demo/workbench/client/**/*.ts'],
    languageOptions: { globals: { document: 'readonly', location: 'readonly', history: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', EventSource: 'readonly', MessageEvent: 'readonly', URLSearchParams: 'readonly' } },
  },
  mayImport('manifest', ['errors', 'registry', 'rpc']),
  // registry: the built-in module lists; everything else it names only as types.
  mayImport('registry', ['errors', 'rpc'], { typesOnly: ['transports', 'kinds', 'channels', 'framing', 'manifest', 'sdk'], also: ['**/transports/modules.js', '**/kinds/modules.js'] }),
)
