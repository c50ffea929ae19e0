/** The published JSON Schema text, from the TypeBox definitions (`npm run schema` writes it). */
import { ManifestSchema } from './schema.js'

export function manifestJsonSchema(): string {
  const schema = { $schema: 'http://json-schema.org/draft-07/schema#', ...ManifestSchema }
  return `${JSON.stringify(schema, null, 2)}\n`
}

