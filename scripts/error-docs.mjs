// `npm run errors:docs`: writes docs/errors.md from the error catalog, schema/error-codes.json.
// test/error-codes.test.ts renders the same text and fails when the file differs, so a code added
// to the catalog cannot go undocumented.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Table cells: no line breaks, and a `|` that does not end the cell. */
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** docs/errors.md for the catalog `table` (the parsed schema/error-codes.json). */
export function renderErrorDocs(table) {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from schema/error-codes.json by `npm run errors:docs`; test/error-codes.test.ts checks it. Edit the catalog, not this file. -->',
    '',
    'Every error polyplug raises is a `PolyplugError` with a stable string `code`: match on the code,',
    'never on the message. Where known, `plugin` and `method` name the plugin and the call, and `data`',
    'holds details. On the wire the string code travels in the error\'s `data.code`; the numbered codes',
    `below are also the JSON-RPC \`code\` (any other code travels as ${table.application}, docs/protocol.md 5.1).`,
    'Plugins may throw codes of their own (any string); an error that carried a code from outside',
    'polyplug (Node\'s `ENOENT`, `ERR_*`) arrives as `FOREIGN_ERROR`, its original code in `data.code`.',
    '',
    'The codes are grouped by the layer that raises them:',
    '',
  ]
  for (const [layer, description] of Object.entries(table.layers)) lines.push(`- [${layer}](#${layer}): ${description}`)
  const numbers = table.codes
  for (const layer of Object.keys(table.layers)) {
    lines.push('', `## ${layer}`, '', '| code | number | meaning | typical cause | fix |', '|---|---|---|---|---|')
    for (const [code, entry] of Object.entries(table.errors)) {
      if (entry.layer !== layer) continue
      const number = numbers[code] === undefined ? '' : String(numbers[code])
      lines.push(`| \`${code}\` | ${number} | ${cell(entry.meaning)} | ${cell(entry.cause)} | ${cell(entry.fix)} |`)
    }
  }
  return `${lines.join('\n')}\n`
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = JSON.parse(readFileSync(join(root, 'schema/error-codes.json'), 'utf8'))
  writeFileSync(join(root, 'docs/errors.md'), renderErrorDocs(table))
  process.stdout.write('wrote docs/errors.md\n')
}
