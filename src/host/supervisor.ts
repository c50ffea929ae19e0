/**
 * Supervision of plugins that can die: a restart policy (exponential backoff between restarts,
 * and a circuit breaker that quarantines a plugin that crashed more than `maxCrashes` times within
 * `windowMs` until someone resets it), and the `Supervisor` that applies it to one plugin and
 * sends the heartbeat after a call timed out.
 */
import type { Launched } from '../placement/placement.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { Peer } from '../rpc/peer.js'
import { Reserved } from '../rpc/wire.js'

export interface RestartPolicyOptions {
  /** Crashes tolerated within `windowMs`; one more quarantines the plugin. Default 3. */
  maxCrashes?: number
  /** Default 5 minutes. */
  windowMs?: number
  /** Wait before the first restart after a crash; doubles per further crash in the window. Default 100 ms. */
  baseDelayMs?: number
  /** Default 10 s. */
  maxDelayMs?: number
}

export class RestartPolicy {
  readonly #plugin: string
  readonly #max: number
  readonly #window: number
  readonly #base: number
  readonly #cap: number
  #crashes: number[] = []
  #total = 0
  #quarantine: PolyplugError | undefined

  constructor(plugin: string, options: RestartPolicyOptions = {}) {
    this.#plugin = plugin
    this.#max = options.maxCrashes ?? 3
    this.#window = options.windowMs ?? 5 * 60_000
    this.#base = options.baseDelayMs ?? 100
    this.#cap = options.maxDelayMs ?? 10_000
  }

  /** The error every call gets while the circuit is open; undefined while it is closed. */
  get quarantined(): PolyplugError | undefined {
    return this.#quarantine
  }

  /** Crashes counted in the current window. */
  get recentCrashes(): number {
    this.#prune(Date.now())
    return this.#crashes.length
  }

  /** Crashes since the plugin was created, resets included. */
  get totalCrashes(): number {
    return this.#total
  }

  /** Records a crash (or a failed start, or a hang); may open the circuit. */
  recordCrash(cause: PolyplugError, now = Date.now()): void {
    this.#total++
    this.#prune(now)
    this.#crashes.push(now)
    if (this.#crashes.length > this.#max && !this.#quarantine) {
      const seconds = Math.round(this.#window / 1000)
      this.#quarantine = new PolyplugError(
        ErrorCodes.PLUGIN_QUARANTINED,
        `crashed ${this.#crashes.length} times within ${seconds} s (last: ${cause.code}: ${cause.message}); quarantined until reset`,
        { plugin: this.#plugin, cause, data: { crashes: this.#crashes.length, windowMs: this.#window, lastCode: cause.code } },
      )
    }
  }

  /** Milliseconds to wait before starting again: 0 with no recent crash. */
  delayBeforeStart(now = Date.now()): number {
    this.#prune(now)
    const last = this.#crashes[this.#crashes.length - 1]
    if (last === undefined) return 0
    const backoff = Math.min(this.#cap, this.#base * 2 ** (this.#crashes.length - 1))
    return Math.max(0, last + backoff - now)
  }

  /** Closes the circuit and forgets past crashes. */
  reset(): void {
    this.#crashes = []
    this.#quarantine = undefined
  }

  #prune(now: number): void {
    while (this.#crashes.length > 0 && (this.#crashes[0] as number) <= now - this.#window) this.#crashes.shift()
  }
}

export interface SupervisorOptions {
  restart?: RestartPolicyOptions | undefined
  /** How long a plugin has to answer a heartbeat after a call timed out. */
  pingTimeoutMs: number
}

/** What the supervisor watches of a running session. */
export interface Supervised {
  readonly launched: Pick<Launched, 'isolated' | 'kill'>
  readonly peer: Pick<Peer, 'call' | 'closed'>
}

/**
 * Supervision of one plugin: its turn before each start (refused while quarantined, after the
 * backoff otherwise), crash accounting for failed starts and broken sessions, and the heartbeat
 * that tells a slow plugin from a hung one.
 */
export class Supervisor {
  readonly policy: RestartPolicy

  constructor(
    private readonly plugin: string,
    private readonly options: SupervisorOptions,
  ) {
    this.policy = new RestartPolicy(plugin, options.restart)
  }

  /** Throws PLUGIN_QUARANTINED while the circuit is open; otherwise waits out the backoff after recent crashes. */
  async awaitTurn(): Promise<void> {
    const quarantined = this.policy.quarantined
    if (quarantined) throw quarantined
    const backoff = this.policy.delayBeforeStart()
    if (backoff > 0) await new Promise((r) => setTimeout(r, backoff))
  }

  /** A crash, a hang or a failed start; returns whether it opened the circuit. */
  crashed(cause: PolyplugError): boolean {
    this.policy.recordCrash(cause)
    return this.policy.quarantined !== undefined
  }

  /** After a call timed out: an isolated plugin that cannot answer a ping in time is hung, and is killed. */
  checkAlive({ launched, peer }: Supervised): void {
    if (!launched.isolated || peer.closed) return
    const { pingTimeoutMs } = this.options
    peer.call(Reserved.ping, undefined, { timeout: pingTimeoutMs }).catch((error: unknown) => {
      if (toPolyplugError(error).code !== ErrorCodes.RPC_TIMEOUT) return
      const reason = new PolyplugError(ErrorCodes.PLUGIN_HUNG, `no heartbeat within ${pingTimeoutMs} ms after a call timed out; terminated`, { plugin: this.plugin })
      void launched.kill(reason)
    })
  }
}
