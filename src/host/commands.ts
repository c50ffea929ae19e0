/** Commands: contributed in manifests, listed without running plugin code, run on demand. */
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { Dispatch, Disposable } from './dispatch.js'

export interface CommandInfo {
  id: string
  plugin: string
  method: string
  title?: string
  description?: string
}

export class Commands {
  readonly #commands = new Map<string, CommandInfo>()

  constructor(readonly dispatch: Dispatch) {}

  /**
   * Registers a plugin's contributed commands; a command id already taken stays with its first
   * plugin. Returns the function that removes the ones this plugin got.
   */
  addManifest(manifest: Manifest): Disposable {
    const added: CommandInfo[] = []
    for (const c of manifest.contributes?.commands ?? []) {
      const taken = this.#commands.get(c.id)
      if (taken) {
        this.dispatch.log('error', `command "${c.id}" is contributed by "${taken.plugin}" and "${manifest.id}"; keeping "${taken.plugin}"`, manifest.id)
        continue
      }
      const info: CommandInfo = { id: c.id, plugin: manifest.id, method: c.method ?? c.id, ...(c.title ? { title: c.title } : {}), ...(c.description ? { description: c.description } : {}) }
      this.#commands.set(c.id, info)
      added.push(info)
    }
    return () => {
      for (const info of added) if (this.#commands.get(info.id) === info) this.#commands.delete(info.id)
    }
  }

  /** Every contributed command, including those of plugins that cannot run now (see `available`). */
  list(): (CommandInfo & { available: boolean })[] {
    return [...this.#commands.values()].map((c) => ({ ...c, available: this.dispatch.usable(c.plugin) }))
  }

  /** Runs a command, activating its plugin (`onCommand:<id>`) first if needed. */
  execute<T = unknown>(id: string, ...args: unknown[]): Promise<T> {
    const command = this.#commands.get(id)
    if (!command) return Promise.reject(new PolyplugError(ErrorCodes.COMMAND_NOT_FOUND, `no plugin contributes command "${id}"`, { data: { command: id } }))
    return this.dispatch.call(command.plugin, command.method, args, `onCommand:${id}`) as Promise<T>
  }
}
