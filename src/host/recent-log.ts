/** The host's recent log lines, per plugin, for the dashboard; and listeners for new ones. */
import type { Disposable } from './dispatch.js'
import type { HostLogger, LogEntry } from './log.js'

export interface LogRecord extends LogEntry {
  /** Epoch milliseconds. */
  time: number
}

/** Lines kept per plugin (and for the host itself). */
const KEEP = 200

export class RecentLog {
  readonly #lines = new Map<string, LogRecord[]>()
  readonly #listeners = new Set<(record: LogRecord) => void>()

  /** A logger that records each entry, tells the listeners, then hands it to `next`. */
  tap(next: HostLogger): HostLogger {
    return (entry) => {
      const record: LogRecord = { ...entry, time: Date.now() }
      const key = entry.plugin ?? ''
      let lines = this.#lines.get(key)
      if (!lines) this.#lines.set(key, (lines = []))
      lines.push(record)
      if (lines.length > KEEP) lines.splice(0, lines.length - KEEP)
      for (const listener of this.#listeners) listener(record)
      next(entry)
    }
  }

  /** The recent lines of one plugin (or the host's own, for undefined), oldest first. */
  lines(plugin: string | undefined): LogRecord[] {
    return [...(this.#lines.get(plugin ?? '') ?? [])]
  }

  listen(listener: (record: LogRecord) => void): Disposable {
    this.#listeners.add(listener)
    return () => void this.#listeners.delete(listener)
  }
}
