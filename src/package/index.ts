/** Plugin packages: pack a folder, install or uninstall a package (docs/packaging.md). */
export { packPlugin, type PackOptions, type PackResult } from './pack.js'
export { installPackage, uninstallPlugin, type InstallOptions, type InstallResult } from './install.js'
export { PACKAGE_EXTENSION, PACKAGE_META, type PackageMeta } from './format.js'
export { generateSigningKeys, keyId, PACKAGE_SIGNATURE, type KeyInput, type PackageSignature } from './signing.js'
