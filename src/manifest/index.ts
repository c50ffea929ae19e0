export * from './schema.js'
export { validateManifest, ManifestError, formatProblem, type ManifestProblem } from './validate.js'
export { readManifest, discoverPlugins, MANIFEST_FILE, type LoadedManifest, type Discovered } from './load.js'
