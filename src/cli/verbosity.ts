/**
 * How much the CLI says besides results: `--quiet` (results and errors only), the default (host
 * warnings and errors), `-v`/`--verbose` (the host's debug log and every line the plugins write to
 * stderr). Set once by main from the flags; the verbs take their host logger from here.
 */
import { silentLogger, stderrLogger, type HostLogger } from '../host/log.js'

export type Verbosity = 'quiet' | 'normal' | 'verbose'

let current: Verbosity = 'normal'

export function setVerbosity(flags: { verbose?: boolean; quiet?: boolean }): void {
  current = flags.quiet ? 'quiet' : flags.verbose ? 'verbose' : 'normal'
}

export function verbosity(): Verbosity {
  return current
}

/** The host logger for a verb that runs plugin code: to stderr, at the level the flags ask for. */
export function cliLogger(): HostLogger {
  if (current === 'quiet') return silentLogger
  return stderrLogger(current === 'verbose' ? 'debug' : 'warn')
}
