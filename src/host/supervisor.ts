/**
 * Restart policy for plugins that can die (worker, process, and later wasm/native/network):
 * exponential backoff between restarts, and a circuit breaker that quarantines a plugin that
 * crashed more than `maxCrashes` times within `windowMs` until someone resets it.
 */
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

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
