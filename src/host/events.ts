/**
 * Events: publish/subscribe between the application and plugins and between plugins. A plugin
 * listens by contributing `{ topic, method }` in its manifest (which activates it on the first
 * event, like `onEvent:<topic>`) or by calling `host/events.subscribe` while active (released when
 * it deactivates). `publish` resolves once every listener has handled the event.
 *
 * Bounded: at most EVENTS_IN_FLIGHT events are being delivered at once and EVENTS_QUEUED more
 * wait their turn (in order); a publish beyond that is refused at once with CHANNEL_FULL, so a
 * publisher that does not await cannot grow the host's memory or stall its event loop.
 */
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { addToList, type Dispatch, type Disposable } from './dispatch.js'

export interface EventMeta {
  topic: string
  /** The publishing plugin's id; undefined when the application published. */
  from?: string
}

/** Events delivered concurrently. */
export const EVENTS_IN_FLIGHT = 64
/** Events waiting for delivery beyond those in flight; one more publish is refused with CHANNEL_FULL. */
export const EVENTS_QUEUED = 1024

/**
 * CHANNEL_FULL for one refused publish. Built without a stack trace: a flood refuses thousands per
 * second, capturing a stack costs more than the refusal itself, and the caller's await names the site.
 */
function refusal(topic: string, queued: number, from: string | undefined): PolyplugError {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new PolyplugError(ErrorCodes.CHANNEL_FULL, `event "${topic}" refused: ${queued} events already wait for delivery; await publish before publishing more`, {
      plugin: from,
      data: { topic, queued, limit: EVENTS_QUEUED },
    })
  } finally {
    Error.stackTraceLimit = limit
  }
}

interface Waiting {
  topic: string
  payload: unknown
  from: string | undefined
  resolve(delivered: number): void
  reject(error: unknown): void
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
  #inFlight = 0
  #waiting: Waiting[] = []
  #head = 0

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

  /**
   * Delivers to every listener (activating contributed ones); resolves to how many received it.
   * Listener errors are logged. Rejects with CHANNEL_FULL when EVENTS_QUEUED events already wait.
   */
  publish(topic: string, payload?: unknown, from?: string): Promise<number> {
    if (this.#inFlight < EVENTS_IN_FLIGHT) return this.#run(topic, payload, from)
    const queued = this.#waiting.length - this.#head
    if (queued >= EVENTS_QUEUED) {
      return Promise.reject(refusal(topic, queued, from))
    }
    return new Promise((resolve, reject) => this.#waiting.push({ topic, payload, from, resolve, reject }))
  }

  #run(topic: string, payload: unknown, from: string | undefined): Promise<number> {
    this.#inFlight++
    return this.#deliver(topic, payload, from).finally(() => {
      this.#inFlight--
      this.#next()
    })
  }

  #next(): void {
    while (this.#inFlight < EVENTS_IN_FLIGHT && this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head] as Waiting
      this.#waiting[this.#head++] = undefined as unknown as Waiting
      this.#run(next.topic, next.payload, next.from).then(next.resolve, next.reject)
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head)
      this.#head = 0
    }
  }

  async #deliver(topic: string, payload: unknown, from: string | undefined): Promise<number> {
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
