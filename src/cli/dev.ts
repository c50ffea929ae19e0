/**
 * `polyplug dev DIR`: one plugin (or a folder of plugins) under a host, for the author at work. It
 * runs the declared build when stale, starts each plugin, streams what the plugins log and write
 * to stderr, and serves the session's lines typed on stdin (./session.ts, with ./session-lines.ts). When a file in a plugin's folder
 * changes it rebuilds (when a build is declared and stale) and reloads that plugin (host.reload).
 * Ends when stdin ends or on SIGINT/SIGTERM.
 */
import { watch, type FSWatcher } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { buildNeeded, runBuild } from '../check/build.js'
import { createHost, type Host } from '../host/host.js'
import { stderrLogger } from '../host/log.js'
import { discoverPlugins, type LoadedManifest } from '../manifest/load.js'
import { formatError, UsageError } from './output.js'
import { serveLines } from './session.js'
import { pluginTarget, shorthandCalls } from './session-lines.js'
import { verbosity } from './verbosity.js'

/** Folders whose changes never reload a plugin (dependencies, caches, VCS). */
const IGNORED = new Set(['node_modules', '.git', '__pycache__'])
/** With a declared build, its usual output folders are ignored too: a build must not trigger itself. */
const BUILD_OUTPUTS = new Set(['target', 'dist', 'build', 'bin', 'zig-out'])
const DEBOUNCE_MS = 150

function say(line: string): void {
  if (verbosity() !== 'quiet') process.stderr.write(`[dev] ${line}\n`)
}

/** Whether a change to `file` (relative to the plugin folder) should rebuild and reload the plugin. */
export function relevantChange(loaded: LoadedManifest, file: string): boolean {
  const parts = file.split(sep)
  if (parts.some((p) => IGNORED.has(p) || (p.startsWith('.') && p !== '.'))) return false
  const build = loaded.manifest.build
  if (!build) return true
  if (BUILD_OUTPUTS.has(parts[0]!)) return false
  const outputs = (build.outputs ?? [loaded.manifest.entry]).map((o) => relative(loaded.dir, resolve(loaded.dir, o)))
  return !outputs.some((o) => file === o || file.startsWith(`${o}${sep}`))
}

/** Runs the plugin's build when it is stale; false (the error printed) when it failed. */
async function buildIfStale(loaded: LoadedManifest): Promise<boolean> {
  const why = await buildNeeded(loaded)
  if (!why) return true
  say(`${loaded.manifest.id}: building with ${JSON.stringify(loaded.manifest.build!.command.join(' '))} (${why})`)
  const started = performance.now()
  try {
    await runBuild(loaded, (chunk) => void (verbosity() === 'verbose' && process.stderr.write(chunk)))
    say(`${loaded.manifest.id}: built in ${Math.round(performance.now() - started)} ms`)
    return true
  } catch (error) {
    process.stderr.write(formatError(error))
    return false
  }
}

async function start(host: Host, id: string): Promise<void> {
  try {
    await host.plugin(id).activate()
    say(`${id}: ready; methods: ${(host.plugin(id).info().methods ?? []).join(', ') || '(none)'}`)
  } catch (error) {
    process.stderr.write(formatError(error))
  }
}

/** Watches one plugin's folder: a relevant change (debounced) rebuilds when needed and reloads. */
function watchPlugin(host: Host, loaded: LoadedManifest): FSWatcher {
  const id = loaded.manifest.id
  let timer: ReturnType<typeof setTimeout> | undefined
  let changed = new Set<string>()
  let queue: Promise<void> = Promise.resolve()
  const cycle = async (files: string[]) => {
    if (loaded.manifest.build && !(await buildIfStale(loaded))) return
    const started = performance.now()
    try {
      await host.reload(id)
      say(`${id}: reloaded in ${Math.round(performance.now() - started)} ms (${files.join(', ')} changed)`)
    } catch (error) {
      process.stderr.write(formatError(error))
    }
  }
  return watch(loaded.dir, { recursive: true }, (_event, filename) => {
    if (!filename || !relevantChange(loaded, filename.toString())) return
    changed.add(filename.toString())
    clearTimeout(timer)
    timer = setTimeout(() => {
      const files = [...changed]
      changed = new Set()
      queue = queue.then(() => cycle(files))
    }, DEBOUNCE_MS)
  })
}

export async function runDev(positionals: string[], options: { timeout?: number; on?: string[] } = {}): Promise<number> {
  const [root, extra] = positionals
  if (!root || extra !== undefined) throw new UsageError('dev needs one DIR (a plugin folder, or a folder of plugins)')
  const found = await discoverPlugins([root])
  if (found.length === 0) throw new UsageError(`${root} holds no plugin (no polyplug.json, and no folder inside holds one)`)
  for (const d of found) if (!d.ok) process.stderr.write(formatError(d.error))
  const plugins = found.flatMap((d) => (d.ok ? [d.loaded] : []))
  if (plugins.length === 0) return 1
  for (const loaded of plugins) if (loaded.manifest.build) await buildIfStale(loaded)

  const level = { quiet: 'error', normal: 'info', verbose: 'debug' } as const
  const host = await createHost({ plugins: [root], logger: stderrLogger(level[verbosity()]), ...(options.timeout ? { callTimeoutMs: options.timeout } : {}) })
  const ids = plugins.map((p) => p.manifest.id)
  for (const id of ids) await start(host, id)
  const watchers = plugins.map((loaded) => watchPlugin(host, loaded))
  say(`watching ${ids.join(', ')}; type ${ids.length > 1 ? 'ID ' : ''}METHOD [PARAMS_JSON], or a session line ({"id":1,"method":...}), one a line`)

  const stopped = new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop)
    process.once('SIGTERM', resolveStop)
  })
  const served = serveLines(pluginTarget(host, ids), options.on ?? [], options.timeout ?? 30_000, shorthandCalls())
  const code = await Promise.race([served, stopped.then(() => 0)])
  for (const w of watchers) w.close()
  await host.close()
  return code
}
