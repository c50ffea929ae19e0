/** The package layer's error codes: plugin packages and what they depend on: install, signatures, dependencies, engine ranges, optional npm packages (src/package, src/host/resolve.ts, src/deps). Meanings, causes and fixes: docs/errors.md. */
export const PackageErrorCodes = {
  PACKAGE_INVALID: 'PACKAGE_INVALID',
  PACKAGE_CONFLICT: 'PACKAGE_CONFLICT',
  PACKAGE_UNTRUSTED: 'PACKAGE_UNTRUSTED',
  PACKAGE_MISSING: 'PACKAGE_MISSING',
  DEPENDENCY_MISSING: 'DEPENDENCY_MISSING',
  DEPENDENCY_INCOMPATIBLE: 'DEPENDENCY_INCOMPATIBLE',
  DEPENDENCY_CYCLE: 'DEPENDENCY_CYCLE',
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  ENGINE_INCOMPATIBLE: 'ENGINE_INCOMPATIBLE',
} as const
