/**
 * Runs the checks (./checks.ts) on one plugin folder under a host of its own, in order: the manifest,
 * the declared build (when its outputs are missing or stale), the protocol checks every plugin must pass, the conformance checks whose methods the plugin
 * exports, then stray output and stop. A result per check: pass, fail (with what was sent and what
 * came back) or skip (with the reason).
 */
import { createHost, type Host } from '../host/host.js'
import type { LogEntry } from '../host/log.js'
import { readManifest, type LoadedManifest } from '../manifest/load.js'
import { runnableProblems } from '../manifest/runnable.js'
import { formatProblem } from '../manifest/validate.js'
import { buildNeeded, runBuild } from './build.js'
import { conformanceChecks, protocolChecks, stopCheck, strayOutputCheck, streamChecks, CheckFailure, type Check, type CheckContext } from './checks.js'

export interface CheckResult {
  name: string
  status: 'pass' | 'fail' | 'skip'
  /** Why it failed or was skipped. */
  reason?: string
  sent?: unknown
  got?: unknown
  ms: number
}

export interface CheckReport {
  dir: string
  id?: string
  results: CheckResult[]
  ok: boolean
}

export interface CheckOptions {
  /** Called as each result is known (the CLI prints as it goes). */
  onResult?: (result: CheckResult) => void
  /** What a declared build prints while it runs. */
  onBuildOutput?: (chunk: string) => void
  callTimeoutMs?: number
}

/** Which of its needed methods a plugin lacks, given the methods its handshake reported. */
export function missingMethods(check: Check, methods: readonly string[] | undefined): string[] {
  return (check.needs ?? []).filter((m) => !methods?.includes(m))
}

/** The reason a check does not apply to this plugin, or undefined when it does. */
export function skipReason(check: Check, loaded: LoadedManifest, methods: readonly string[] | undefined, capabilities?: readonly string[]): string | undefined {
  const notFor = check.notFor?.(loaded.manifest)
  if (notFor) return notFor
  const lacks = capabilityMissing(check, loaded.manifest.id, capabilities)
  if (lacks) return lacks
  const missing = missingMethods(check, methods)
  if (missing.length > 0) return `the plugin does not export ${missing.join(', ')} (docs/conformance.md says what each does)`
  return undefined
}

/** Why a check needing a capability cannot run: the plugin's `$/hello` answer does not list it. */
export function capabilityMissing(check: Check, id: string, capabilities: readonly string[] | undefined): string | undefined {
  if (!check.capability || capabilities?.includes(check.capability)) return undefined
  return `${id} does not list the "${check.capability}" capability in its $/hello answer (docs/protocol.md §7.1)`
}

export async function runCheck(check: Check, ctx: CheckContext): Promise<Omit<CheckResult, 'name'>> {
  const t0 = performance.now()
  try {
    await check.run(ctx)
    return { status: 'pass', ms: performance.now() - t0 }
  } catch (error) {
    const failure = error instanceof CheckFailure ? error : new CheckFailure((error as Error).message ?? String(error))
    return { status: 'fail', reason: failure.message, sent: failure.sent, got: failure.got, ms: performance.now() - t0 }
  }
}

export async function checkPlugin(dir: string, options: CheckOptions = {}): Promise<CheckReport> {
  const results: CheckResult[] = []
  const record = (result: CheckResult) => {
    results.push(result)
    options.onResult?.(result)
  }
  let loaded: LoadedManifest
  try {
    loaded = await readManifest(dir)
  } catch (error) {
    record({ name: 'the manifest is valid', status: 'fail', reason: (error as Error).message, ms: 0 })
    return { dir, results, ok: false }
  }
  record({ name: 'the manifest is valid', status: 'pass', ms: 0 })
  if (loaded.manifest.build) {
    const t0 = performance.now()
    const why = await buildNeeded(loaded)
    const name = `builds with ${JSON.stringify(loaded.manifest.build.command.join(' '))}`
    if (!why) record({ name, status: 'pass', reason: 'up to date', ms: 0 })
    else {
      try {
        await runBuild(loaded, options.onBuildOutput)
        record({ name: `${name} (${why})`, status: 'pass', ms: performance.now() - t0 })
      } catch (error) {
        record({ name, status: 'fail', reason: (error as Error).message, ms: performance.now() - t0 })
        return { dir, id: loaded.manifest.id, results, ok: false }
      }
    }
  }
  // What `polyplug validate` checks on disk, once the build made the program: a start failure then has its fix.
  const unrunnable = await runnableProblems(loaded)
  if (unrunnable.length > 0) {
    record({ name: 'its program can run (entry, sidecar.command)', status: 'fail', reason: unrunnable.map(formatProblem).join('\n'), ms: 0 })
    return { dir, id: loaded.manifest.id, results, ok: false }
  }
  const log: LogEntry[] = []
  let host: Host | undefined
  try {
    host = await createHost({ plugins: [loaded.dir], logger: (entry) => void log.push(entry), callTimeoutMs: options.callTimeoutMs ?? 10_000 })
    const plugin = host.plugin(loaded.manifest.id)
    const ctx: CheckContext = { host, plugin, manifest: loaded.manifest, log }
    const run = async (check: Check, methods?: readonly string[], capabilities?: readonly string[]) => {
      const skip = skipReason(check, loaded, methods, capabilities)
      record(skip ? { name: check.name, status: 'skip', reason: skip, ms: 0 } : { name: check.name, ...(await runCheck(check, ctx)) })
    }
    const [start, ...protocol] = protocolChecks
    await run(start!)
    const started = results.at(-1)!.status === 'pass'
    const rest = [...protocol, ...conformanceChecks, ...streamChecks, strayOutputCheck, stopCheck]
    const { methods, capabilities } = plugin.info()
    for (const check of rest) {
      if (started) await run(check, methods, capabilities)
      else record({ name: check.name, status: 'skip', reason: 'the plugin did not start', ms: 0 })
    }
  } finally {
    await host?.close()
  }
  return { dir, id: loaded.manifest.id, results, ok: results.every((r) => r.status !== 'fail') }
}
