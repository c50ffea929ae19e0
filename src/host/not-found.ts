/** PLUGIN_NOT_FOUND that names the fix: the invalid manifest that holds the id, a likely typo, or the ids there are. */
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { closest, listNames } from '../rpc/suggest.js'
import type { InvalidPlugin } from './plugins.js'

export function pluginNotFound(id: string, known: readonly string[], invalid: readonly InvalidPlugin[]): PolyplugError {
  const broken = invalid.find((p) => (p.error.plugin ?? '') === id || p.dir.endsWith(`/${id}`))
  if (broken) {
    return new PolyplugError(ErrorCodes.PLUGIN_NOT_FOUND, `plugin "${id}" was not loaded: ${broken.error.message}`, {
      plugin: id,
      cause: broken.error,
      data: { dir: broken.dir, code: broken.error.code },
    })
  }
  const guess = closest(id, known)
  const where = known.length ? `the plugins found are ${listNames([...known].sort())}` : 'no plugins were found: check the host\'s `plugins` folders'
  return new PolyplugError(ErrorCodes.PLUGIN_NOT_FOUND, `no plugin with id "${id}"${guess ? `; did you mean "${guess}"?` : ''} (${where})`, { plugin: id })
}
