/**
 * One known plugin as the host holds it: its runtime and everything that must be released with
 * it, in one object, so that a plugin's teardown cannot miss a piece — what its manifest
 * contributed, what its running session registered, its settings, its dev-mode watcher.
 */
import { PluginConfig, type Settings } from './config.js'
import type { Disposable } from './dispatch.js'
import type { PluginRuntime } from './plugin.js'

/** Functions to run once, together, in the order they were added. */
export class Disposables {
  readonly #items: Disposable[] = []

  add(dispose: Disposable): void {
    this.#items.push(dispose)
  }

  dispose(): void {
    for (const dispose of this.#items.splice(0)) dispose()
  }
}

export class PluginEntry {
  /** What the manifest contributed (commands, hooks, event subscriptions and activators): held while this version is known. */
  readonly contributions = new Disposables()
  /** What the running session registered through the host API: released when the session ends. */
  readonly session = new Disposables()
  #config: PluginConfig | undefined
  #watcher: Disposable | undefined

  constructor(
    readonly runtime: PluginRuntime,
    /** The application's settings for the plugin (HostOptions.config). */
    private readonly settings: Settings = {},
  ) {}

  get id(): string {
    return this.runtime.id
  }

  /** The plugin's settings, validated against its manifest on first use. */
  config(): PluginConfig {
    this.#config ??= new PluginConfig(this.id, this.runtime.manifest, this.settings)
    return this.#config
  }

  /** Dev mode: `stop` ends the watch that reloads the plugin; a new watch ends the one before. */
  watch(stop: Disposable): void {
    this.#watcher?.()
    this.#watcher = stop
  }

  /** Hands the dev-mode watch over (to the entry of the plugin's next version, which stays watched). */
  takeWatch(): Disposable | undefined {
    const stop = this.#watcher
    this.#watcher = undefined
    return stop
  }

  /** The plugin is gone (removed, or replaced by a new version): everything it held is released. */
  dispose(): void {
    this.contributions.dispose()
    this.session.dispose()
    this.#watcher?.()
    this.#watcher = undefined
    this.#config = undefined
  }
}
