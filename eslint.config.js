// Lint rules, including the layer boundaries of DESIGN.md: the RPC core and the channel
// contract import nothing from Node and nothing from the layers above them.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const upperLayers = ['**/transports/**', '**/placement/**', '**/kinds/**', '**/host/**', '**/cli/**', '**/sdk/**', '**/manifest/**']

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/**/target/**', '**/*.d.ts'] },
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
  {
    files: ['src/rpc/**/*.ts', 'src/channels/**/*.ts', 'src/framing/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'The RPC core runs anywhere: no Node imports.' }, { group: upperLayers, message: 'The RPC core never imports the layers above it.' }] }],
    },
  },
  {
    files: ['src/transports/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/placement/**', '**/kinds/**', '**/host/**', '**/cli/**'], message: 'Transports know only channels and the RPC core.' }] }],
    },
  },
  {
    files: ['src/sdk/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/host/**', '**/cli/**', '**/placement/**'], message: 'The plugin SDK never depends on the host.' }] }],
    },
  },
)
