/**
 * Hooks: named extension points the application declares, with the kinds tapable and rollup
 * users know. Handlers come from manifests (`contributes.hooks`), from plugins at run time
 * (`host/hooks.tap`), or from the application (`host.hooks.tap`), and run in order: `pre`, then
 * `normal`, then `post`; within a group, dependencies before dependants, then registration order.
 *
 * - `series`: each handler in turn with the same arguments; resolves to undefined.
 * - `waterfall`: each handler receives the previous one's result as its first argument
 *   (undefined or null keeps the value); resolves to the last value.
 * - `bail`: handlers in turn until one returns something other than undefined or null; resolves to it.
 * - `parallel`: every handler at once; resolves to their results in handler order.
 */
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { addToList, type Dispatch, type Disposable } from './dispatch.js'

export type HookKind = 'series' | 'waterfall' | 'bail' | 'parallel'
export type HookOrder = 'pre' | 'normal' | 'post'
export const HOOK_KINDS: readonly HookKind[] = ['series', 'waterfall', 'bail', 'parallel']

export interface HookOptions {
  kind: HookKind
  /** Deadline for each handler, in ms. Default: the plugin's call timeout. */
  timeoutMs?: number
}

interface Handler {
  order: HookOrder
  seq: number
  plugin?: string
  method?: string
  fn?: (...args: unknown[]) => unknown
  /** Contributed in the manifest: activates its plugin when the hook runs (`onHook:<name>`). */
  contributed: boolean
}

const orderRank: Record<HookOrder, number> = { pre: 0, normal: 1, post: 2 }

export class Hooks {
  readonly #hooks = new Map<string, HookOptions>()
  readonly #handlers = new Map<string, Handler[]>()
  #seq = 0

  constructor(readonly dispatch: Dispatch) {}

  /** Declares a hook. Handlers may be registered before or after. */
  define(name: string, options: HookOptions): void {
    if (!HOOK_KINDS.includes(options.kind)) throw new TypeError(`hook kind must be one of ${HOOK_KINDS.join(', ')}`)
    this.#hooks.set(name, options)
  }

  /** An application handler, run in the host's thread. */
  tap(name: string, fn: (...args: unknown[]) => unknown, options: { order?: HookOrder } = {}): Disposable {
    return this.#add(name, { order: options.order ?? 'normal', seq: this.#seq++, fn, contributed: false })
  }

  /** A plugin method as a handler; `contributed` ones come from manifests and activate their plugin. */
  addPluginHandler(name: string, plugin: string, method: string, order: HookOrder = 'normal', contributed = false): Disposable {
    return this.#add(name, { order, seq: this.#seq++, plugin, method, contributed })
  }

  /** Declared hooks with their handler count. */
  list(): { name: string; kind: HookKind; handlers: number }[] {
    return [...this.#hooks].map(([name, o]) => ({ name, kind: o.kind, handlers: this.#runnable(name).length }))
  }

  /** Runs a hook by its kind (see the file comment). */
  async call<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    const hook = this.#hooks.get(name)
    if (!hook) throw new PolyplugError(ErrorCodes.HOOK_NOT_FOUND, `no hook named "${name}" is declared`, { data: { hook: name } })
    const handlers = this.#runnable(name)
    const run = (h: Handler, callArgs: unknown[]) => this.#invoke(name, hook, h, callArgs)
    switch (hook.kind) {
      case 'series':
        for (const h of handlers) await run(h, args)
        return undefined as T
      case 'waterfall': {
        const rest = args.slice(1)
        let value = args[0]
        for (const h of handlers) {
          const next = await run(h, [value, ...rest])
          if (next !== undefined && next !== null) value = next
        }
        return value as T
      }
      case 'bail':
        for (const h of handlers) {
          const result = await run(h, args)
          if (result !== undefined && result !== null) return result as T
        }
        return undefined as T
      case 'parallel':
        return (await Promise.all(handlers.map((h) => run(h, args)))) as T
    }
  }

  #add(name: string, handler: Handler): Disposable {
    return addToList(this.#handlers, name, handler)
  }

  /** Handlers whose plugin can run: contributed ones of usable plugins, run-time ones of active plugins. */
  #runnable(name: string): Handler[] {
    const d = this.dispatch
    return (this.#handlers.get(name) ?? [])
      .filter((h) => h.plugin === undefined || (h.contributed ? d.usable(h.plugin) : d.active(h.plugin)))
      .sort((a, b) => orderRank[a.order] - orderRank[b.order] || (a.plugin ? d.rank(a.plugin) : -1) - (b.plugin ? d.rank(b.plugin) : -1) || a.seq - b.seq)
  }

  async #invoke(name: string, hook: HookOptions, h: Handler, args: unknown[]): Promise<unknown> {
    try {
      if (h.fn) return await h.fn(...args)
      const options = hook.timeoutMs === undefined ? {} : { timeout: hook.timeoutMs }
      return await this.dispatch.call(h.plugin!, h.method!, args, `onHook:${name}`, options)
    } catch (error) {
      const e = toPolyplugError(error)
      throw new PolyplugError(e.code, `hook "${name}": ${e.message}`, { plugin: e.plugin ?? h.plugin, method: e.method ?? h.method, cause: e, data: { hook: name, ...(e.data && typeof e.data === 'object' ? e.data : {}) } })
    }
  }
}
