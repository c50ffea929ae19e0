/** The manifest layer's error codes: polyplug.json files: their shape and their ids (src/manifest). Meanings, causes and fixes: docs/errors.md. */
export const ManifestErrorCodes = {
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  DUPLICATE_PLUGIN_ID: 'DUPLICATE_PLUGIN_ID',
} as const
