/**
 * The manifest validator is built from the published schema (no TypeBox at run time) and, for
 * polyplug's own registry, prebuilt by `npm run build`. Both must check exactly what the TypeBox
 * definitions say, for the registry as built and for one an application extended.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { manifestChecker, manifestSchemaFor, prebuiltValidatorFile, publishedSchema, schemaKey } from '../src/manifest/checker.js'
import { loadPrebuilt } from '../src/manifest/prebuilt-validator.js'
import { manifestSchema } from '../src/manifest/schema.js'
import { validateManifest } from '../src/manifest/validate.js'
import { registerKind, registerTransport } from '../src/registry/index.js'

/** The TypeBox schema as plain JSON (TypeBox marks its nodes with symbols, which JSON drops). */
const typebox = () => JSON.parse(JSON.stringify(manifestSchema())) as Record<string, unknown>
const prebuilt = () => loadPrebuilt(prebuiltValidatorFile).validate
/** The schema a validator was prebuilt for; undefined for one Ajv compiled at run time. */
const keyOf = (check: object) => (check as { schemaKey?: string }).schemaKey

describe('the manifest validator', () => {
  it('for polyplug\'s own registry: the published schema equals the TypeBox one, and the prebuilt validator is the current one', () => {
    const schema = manifestSchemaFor(publishedSchema())
    assert.deepEqual(schema, typebox())
    assert.equal(prebuilt().schemaKey, schemaKey(schema), 'dist/src/manifest/manifest-validator.cjs is stale: run npm run build')
    assert.equal(keyOf(manifestChecker()), schemaKey(schema), 'the prebuilt validator is the one in use')
  })

  it('for a registry the application extended: the schema names its kind, transport and scheme, as TypeBox does, and is compiled', () => {
    registerKind({ name: 'checker-kind', placements: ['inline', 'remote'], defaultPlacement: 'inline', load: () => Promise.reject(new Error('not loaded here')) })
    registerTransport({ name: 'checker-wire', remote: { schemes: ['checkerwire'], dial: () => Promise.reject(new Error('not dialled here')) } })
    assert.deepEqual(manifestSchemaFor(publishedSchema()), typebox())
    assert.equal(keyOf(manifestChecker()), undefined, 'compiled by Ajv, not the prebuilt validator')
    assert.equal(validateManifest({ id: 'x', version: '1.0.0', kind: 'checker-kind', entry: 'x' }, 'f').kind, 'checker-kind')
    assert.equal(validateManifest({ id: 'y', version: '1.0.0', kind: 'checker-kind', entry: 'y', placement: 'remote', remote: { url: 'checkerwire://h:1' } }, 'f').transport, 'checker-wire')
  })
})
