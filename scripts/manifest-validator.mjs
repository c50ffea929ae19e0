// Writes dist/src/manifest/manifest-validator.cjs: the manifest schema for polyplug's own kinds and
// transports as Ajv standalone code, so validating a manifest compiles nothing at run time
// (src/manifest/checker.ts uses it only while its schemaKey matches the schema it would compile).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'

const checker = await import('../dist/src/manifest/checker.js')
const schema = checker.manifestSchemaFor(checker.publishedSchema())
const ajv = new Ajv({ ...checker.MANIFEST_AJV_OPTIONS, code: { source: true } })
const code = standalone.default(ajv, ajv.compile(schema))
const out = fileURLToPath(checker.prebuiltValidatorFile)
writeFileSync(out, `${code}\nmodule.exports.schemaKey = ${JSON.stringify(checker.schemaKey(schema))};\n`)
