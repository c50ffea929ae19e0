/**
 * Installing and uninstalling packages (docs/packaging.md) for a running host: where packages go,
 * which signatures it trusts, and the rule that it removes only what it installed.
 */
import { join, resolve } from 'node:path'
import type { InstallOptions, InstallResult } from '../package/index.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

export interface InstallerOptions {
  /** Where packages go (one folder per plugin id); default the first of `plugins`. */
  installDir?: string | undefined
  plugins: readonly string[]
  /** When set, only packages signed by one of these Ed25519 keys (PEM) install. */
  trustedKeys?: readonly string[] | undefined
  /** The folder a known plugin lives in (PLUGIN_NOT_FOUND for an unknown id). */
  dirOf(id: string): string
  /** Stops a plugin and its running dependants. */
  stop(id: string): Promise<unknown>
  /** Reads the plugin folders again. */
  rescan(): Promise<unknown>
}

export class Installer {
  constructor(private readonly options: InstallerOptions) {}

  async install(file: string, options: InstallOptions = {}): Promise<InstallResult> {
    const trustedKeys = this.options.trustedKeys
    const { installPackage } = await import('../package/index.js') // tar and signing load only to install
    const result = await installPackage(file, this.#folder(), { ...(trustedKeys ? { trustedKeys } : {}), ...options })
    await this.options.rescan()
    return result
  }

  async uninstall(id: string): Promise<void> {
    const folder = this.#folder()
    const dir = this.options.dirOf(id)
    if (resolve(dir) !== join(folder, id)) {
      throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, `plugin "${id}" lives in ${dir}, not in the install folder ${folder}; the host removes only what it installed`, { plugin: id })
    }
    await this.options.stop(id)
    const { uninstallPlugin } = await import('../package/index.js')
    await uninstallPlugin(id, folder)
    await this.options.rescan()
  }

  #folder(): string {
    const dir = this.options.installDir ?? this.options.plugins[0]
    if (!dir) throw new PolyplugError(ErrorCodes.INVALID_PARAMS, 'the host has no plugin folder to install into (set installDir)')
    return resolve(dir)
  }
}
