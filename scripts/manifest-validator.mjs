// Writes dist/src/manifest/manifest-validator.cjs: the manifest schema for polyplug's own kinds and
// transports as Ajv standalone code, so validating a manifest compiles nothing at run time
// (src/manifest/checker.ts uses it only while its schemaKey matches the schema it would compile),
// and beside it the V8 code cache of that file (src/manifest/prebuilt-validator.ts says how it is
// made and when it is not used).
import { writeFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'
import ucs2length from 'ajv/dist/runtime/ucs2length.js'

const checker = await import('../dist/src/manifest/checker.js')
const { writePrebuiltCache } = await import('../dist/src/manifest/prebuilt-validator.js')
const schema = checker.manifestSchemaFor(checker.publishedSchema())
const ajv = new Ajv({ ...checker.MANIFEST_AJV_OPTIONS, code: { source: true } })
// Ajv's code requires its one runtime helper by package name; inlined, the file needs no package
// resolution at a host's start (Ajv's package.json and exports map read for one small function).
const helper = ucs2length.default
const code = standalone.default(ajv, ajv.compile(schema)).replaceAll(helper.code, `(${helper.toString()})`)
if (/\brequire\(/.test(code)) throw new Error(`scripts/manifest-validator.mjs: the standalone validator requires a module Ajv added: ${/\brequire\([^)]*\)/.exec(code)[0]}`)
writeFileSync(checker.prebuiltValidatorFile, `${code}\nmodule.exports.schemaKey = ${JSON.stringify(checker.schemaKey(schema))};\n`)
writePrebuiltCache(checker.prebuiltValidatorFile, { id: 'warm', version: '1.0.0', kind: 'js', entry: 'index.js' })
