/** Host log: every line a plugin writes, or the host writes about a plugin, is tagged with its id. */
/** `trace` is finer than `debug` (Extism plugins log at it); hosts that do not care treat it as debug. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

export interface LogEntry {
  level: LogLevel
  message: string
  plugin?: string
}

export type HostLogger = (entry: LogEntry) => void

const order: Record<LogLevel, number> = { trace: -1, debug: 0, info: 1, warn: 2, error: 3 }

/** Writes `[plugin] level: message` lines to stderr at or above `min`. */
export function stderrLogger(min: LogLevel = 'info'): HostLogger {
  return (entry) => {
    if (order[entry.level] < order[min]) return
    process.stderr.write(`${entry.plugin ? `[${entry.plugin}] ` : ''}${entry.level}: ${entry.message}\n`)
  }
}

export const silentLogger: HostLogger = () => {}
