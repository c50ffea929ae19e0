/**
 * Events: publish/subscribe between the application and plugins and between plugins. A plugin
 * listens by contributing `{ topic, method }` in its manifest (which activates it on the first
 * event, like `onEvent:<topic>`) or by calling `host/events.subscribe` while active (released when
 * it deactivates). `publish` resolves once every listener has handled the event.
 */
import { toPolyplugError } from '../rpc/errors.js'
import { addToList, type Dispatch, type Disposable } from './dispatch.js'

export interface EventMeta {
  topic: string
  /** The publishing plugin's id; undefined when the application published. */
  from?: string
}

interface Subscription {
  plugin?: string
  method?: string
  fn?: (payload: unknown, meta: EventMeta) => unknown
  contributed: boolean
}

export class Events {
  readonly #subs = new Map<string, Subscription[]>()
  /** Plugins that activate on `onEvent:<topic>` without a contributed listener (they subscribe in `activate`). */
  readonly #activators = new Map<string, Set<string>>()

  constructor(readonly dispatch: Dispatch) {}

  subscribe(topic: string, fn: (payload: unknown, meta: EventMeta) => unknown): Disposable {
    return this.#add(topic, { fn, contributed: false })
  }

  addPluginSubscription(topic: string, plugin: string, method: string, contributed = false): Disposable {
    return this.#add(topic, { plugin, method, contributed })
  }

  addActivator(topic: string, plugin: string): Disposable {
    const set = this.#activators.get(topic) ?? new Set()
    set.add(plugin)
    this.#activators.set(topic, set)
    return () => void set.delete(plugin)
  }

  /** Listeners that would receive `topic` now (run-time ones only while their plugin is active). */
  listenerCount(topic: string): number {
    return (this.#subs.get(topic) ?? []).filter((s) => this.#live(s)).length
  }

  /** Delivers to every listener (activating contributed ones); resolves to how many received it. Listener errors are logged. */
  async publish(topic: string, payload?: unknown, from?: string): Promise<number> {
    const d = this.dispatch
    const wake = new Set<string>()
    for (const id of this.#activators.get(topic) ?? []) if (d.usable(id) && !d.active(id)) wake.add(id)
    await Promise.all(
      [...wake].map((id) => d.activate(id, `onEvent:${topic}`).catch((e: unknown) => d.log('error', `activation for event "${topic}" failed: ${toPolyplugError(e).message}`, id))),
    )
    const meta: EventMeta = from === undefined ? { topic } : { topic, from }
    const targets = (this.#subs.get(topic) ?? []).filter((s) => this.#live(s))
    const results = await Promise.allSettled(
      targets.map((s) => (s.fn ? Promise.resolve().then(() => s.fn!(payload, meta)) : d.call(s.plugin!, s.method!, [payload, meta], `onEvent:${topic}`))),
    )
    let delivered = 0
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') delivered++
      else d.log('error', `listener for event "${topic}" failed: ${toPolyplugError(r.reason).message}`, targets[i]?.plugin)
    }
    return delivered
  }

  #live(s: Subscription): boolean {
    return s.plugin === undefined || (s.contributed ? this.dispatch.usable(s.plugin) : this.dispatch.active(s.plugin))
  }

  #add(topic: string, sub: Subscription): Disposable {
    return addToList(this.#subs, topic, sub)
  }
}
