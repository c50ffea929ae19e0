/**
 * The string patterns of the manifest schema, apart from the schema itself so that code needing
 * only a pattern (validation messages, the installer) does not build the schema.
 */
import { remoteSchemes } from '../registry/index.js'

/** What a plugin id may look like (also what keeps ids usable as folder names). */
export const PLUGIN_ID_PATTERN = '^[a-z0-9][a-z0-9._-]*$'
/** `onStartup`, `onDependent`, or `on<Command|Method|Hook|Event>:<name>`. */
export const ACTIVATION_PATTERN = '^(onStartup|onDependent|on(Command|Method|Hook|Event):.+)$'
/** A semver version, build metadata allowed (a plugin's own version). */
export const VERSION_PATTERN = '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$'
/** A semver version without build metadata (a provided API's version). */
export const DEPENDENCY_VERSION_PATTERN = '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?$'
/** A remote url: one of the schemes the registered transports dial. */
export const remoteUrlPattern = (schemes: readonly string[] = remoteSchemes()) => `^(${schemes.join('|')})://`
