/**
 * The manifest's `transportOptions` for `shm` (docs/shm.md, "Low-latency mode"), checked once at
 * launch so a typo is a clear MANIFEST_INVALID rather than a silently slow plugin.
 */
import { PolyplugError } from '../../rpc/errors.js'
import { ErrorCodes } from '../../errors/index.js'

/** The longest poll we allow after a send: beyond this, sleeping on the doorbell costs less. */
export const MAX_SPIN_MICROS = 10_000

export interface ShmOptions {
  /**
   * µs each side polls for the next message after sending, before sleeping. 0: never poll.
   * Absent: the host polls briefly (DEFAULT_HOST_SPIN_MICROS, adaptive) and the plugin does not.
   */
  spinMicros?: number
}

/** Reads `{ spinMicros }` from a manifest's transportOptions; throws MANIFEST_INVALID on anything else. */
export function shmOptions(transportOptions: Record<string, unknown> | undefined, plugin?: string): ShmOptions {
  const options = transportOptions ?? {}
  for (const key of Object.keys(options)) {
    if (key !== 'spinMicros') throw invalid(`unknown shm transport option "${key}" (known: spinMicros)`, plugin)
  }
  const spin = options.spinMicros
  if (spin === undefined) return {}
  if (typeof spin !== 'number' || !Number.isInteger(spin) || spin < 0 || spin > MAX_SPIN_MICROS) {
    throw invalid(`transportOptions.spinMicros must be an integer from 0 to ${MAX_SPIN_MICROS}, got ${JSON.stringify(spin)}`, plugin)
  }
  return { spinMicros: spin }
}

/** The plugin's half: the host passes the same setting as POLYPLUG_SHM_SPIN_US. */
export function spinFromEnv(env: Record<string, string | undefined>): number {
  const value = Number(env.POLYPLUG_SHM_SPIN_US ?? 0)
  return Number.isInteger(value) && value > 0 ? Math.min(value, MAX_SPIN_MICROS) : 0
}

function invalid(message: string, plugin: string | undefined): PolyplugError {
  return new PolyplugError(ErrorCodes.MANIFEST_INVALID, message, { plugin, data: { path: '/transportOptions' } })
}
