/**
 * Optional npm packages: polyplug's heavier capabilities (MQTT, SQLite on Node 20, native plugins)
 * live in packages an application adds only when it uses them (docs/architecture.md, "Dependencies").
 * Each is loaded on first use, from the application's own node_modules; a missing one is a
 * PACKAGE_MISSING error naming the capability and the command that adds it.
 */
import { createRequire } from 'node:module'
import { PolyplugError } from '../rpc/errors.js'
import { PackageErrorCodes } from '../errors/package.js'

const require = createRequire(import.meta.url)

function missing(name: string, capability: string, cause: unknown): PolyplugError {
  return new PolyplugError(PackageErrorCodes.PACKAGE_MISSING, `${capability} needs the npm package ${name}, which is not installed: run \`npm install ${name}\``, {
    cause,
    data: { package: name },
  })
}

function notFound(error: unknown, name: string): boolean {
  const e = error as { code?: string; message?: string }
  return (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') && (e.message ?? '').includes(name)
}

/** `require(name)` for a CommonJS package; PACKAGE_MISSING when it is not installed. */
export function requireOptional<T>(name: string, capability: string): T {
  try {
    return require(name) as T
  } catch (error) {
    throw notFound(error, name) ? missing(name, capability, error) : error
  }
}

/** `import(name)`; PACKAGE_MISSING when it is not installed. */
export async function importOptional<T>(name: string, capability: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (error) {
    throw notFound(error, name) ? missing(name, capability, error) : error
  }
}
