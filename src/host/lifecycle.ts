/**
 * Starting and stopping plugins in dependency order: a plugin's dependencies start before it
 * (reason `onDependent`), its running dependants stop before it, and `close` stops everything,
 * dependants first. Each plugin's own start and stop are its runtime's (plugin.ts).
 */
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { CallOptions } from '../rpc/types.js'
import type { HostLogger } from './log.js'
import type { PluginSet } from './plugins.js'

export class Lifecycle {
  #closed = false

  constructor(
    private readonly plugins: PluginSet,
    private readonly log: HostLogger,
  ) {}

  get closed(): boolean {
    return this.#closed
  }

  /** Activates a plugin's dependencies (reason `onDependent`), then the plugin. */
  async activate(id: string, reason: string, handoff?: unknown): Promise<void> {
    const runtime = this.plugins.runtime(id)
    if (runtime.running) return
    this.assertOpen(id)
    const blocked = runtime.blocked()
    if (blocked) throw blocked
    for (const dep of runtime.dependencies) {
      await this.activate(dep, 'onDependent').catch((error: unknown) => {
        const cause = toPolyplugError(error)
        throw new PolyplugError(ErrorCodes.DEPENDENCY_UNAVAILABLE, `plugin "${id}" cannot start: its dependency "${dep}" failed (${cause.code}: ${cause.message})`, {
          plugin: id,
          cause,
          data: { dependency: dep, code: cause.code },
        })
      })
    }
    await runtime.activate(reason, handoff)
  }

  /** Calls `method`, activating the plugin (and its dependencies) first if it is not running; `reason` defaults to `onMethod:METHOD`. */
  call<T>(id: string, method: string, args: unknown[], options: CallOptions, reason?: string): Promise<T> {
    // A running plugin needs no activation step: calling it straight saves an async frame and two promise hops per call.
    const runtime = this.plugins.get(id)?.runtime
    if (runtime?.running) return runtime.call<T>(method, args, options, reason)
    return this.#activateAndCall(id, method, args, options, reason)
  }

  async #activateAndCall<T>(id: string, method: string, args: unknown[], options: CallOptions, reason = `onMethod:${method}`): Promise<T> {
    await this.activate(id, reason)
    return this.plugins.runtime(id).call<T>(method, args, options, reason)
  }

  /** Stops the running dependants of `id` (dependants first), then `id`; resolves to what its `deactivate` returned. */
  async stopWithDependants(id: string): Promise<unknown> {
    for (const other of this.plugins.dependantsOf(id).reverse()) await this.plugins.get(other)?.runtime.stop()
    return this.plugins.runtime(id).stop()
  }

  /** Activates every usable plugin whose manifest lists `onStartup`, dependencies first; failures are logged, not thrown. */
  async startup(): Promise<void> {
    for (const id of this.plugins.order) {
      const runtime = this.plugins.runtime(id)
      if (!runtime.usable || !runtime.manifest.activation?.includes('onStartup')) continue
      await this.activate(id, 'onStartup').catch((e: unknown) => this.log({ level: 'error', plugin: id, message: `onStartup: ${toPolyplugError(e).message}` }))
    }
  }

  /** From now on every activation is refused (CHANNEL_CLOSED). */
  markClosed(): void {
    this.#closed = true
  }

  /** Stops every plugin, dependants before their dependencies. */
  async stopAll(): Promise<void> {
    for (const id of [...this.plugins.order].reverse()) await this.plugins.get(id)?.runtime.stop()
  }

  /** CHANNEL_CLOSED once the host is closed. */
  assertOpen(id: string): void {
    if (this.#closed) throw new PolyplugError(ErrorCodes.CHANNEL_CLOSED, 'host is closed', { plugin: id })
  }
}
