/**
 * A plugin's declared build (`build` in its manifest): run by `polyplug check` and `polyplug dev` when
 * an output is missing or older than an input. The host itself never runs build commands.
 */
import { spawn } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { LoadedManifest } from '../manifest/load.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

const SKIPPED = new Set(['node_modules', 'target', 'dist', 'build', '__pycache__', '.git'])

/** The newest modification time under `path` (a file or a folder), leaving out build folders and the outputs. */
async function newest(path: string, outputs: ReadonlySet<string>): Promise<number> {
  if (outputs.has(path)) return 0
  const info = await stat(path).catch(() => undefined)
  if (!info) return 0
  if (!info.isDirectory()) return info.mtimeMs
  const entries = await readdir(path, { withFileTypes: true })
  const times = await Promise.all(entries.filter((e) => !SKIPPED.has(e.name) && !e.name.startsWith('.')).map((e) => newest(join(path, e.name), outputs)))
  return Math.max(0, ...times)
}

/** Why the build must run, or undefined when its outputs are there and newer than its inputs. */
export async function buildNeeded(loaded: LoadedManifest): Promise<string | undefined> {
  const build = loaded.manifest.build
  if (!build) return undefined
  const outputs = (build.outputs ?? [loaded.manifest.entry]).map((o) => resolve(loaded.dir, o))
  const outputTimes = await Promise.all(outputs.map((o) => stat(o).then((s) => s.mtimeMs, () => undefined)))
  const missing = outputs.filter((_, i) => outputTimes[i] === undefined)
  if (missing.length > 0) return `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`
  const oldestOutput = Math.min(...(outputTimes as number[]))
  const inputs = (build.inputs ?? ['.']).map((i) => resolve(loaded.dir, i))
  const inputTimes = await Promise.all(inputs.map((i) => newest(i, new Set(outputs))))
  const stale = inputs.filter((_, i) => inputTimes[i]! > oldestOutput)
  return stale.length > 0 ? `sources changed since the last build (${stale.map((s) => s.slice(loaded.dir.length + 1) || '.').join(', ')})` : undefined
}

/** Runs the declared build in the plugin's folder; its output goes to `onOutput`. Rejects with BUILD_FAILED naming the command and exit code. */
export function runBuild(loaded: LoadedManifest, onOutput: (chunk: string) => void = () => {}): Promise<void> {
  const [command, ...args] = loaded.manifest.build!.command
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command!, args, { cwd: loaded.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let tail = ''
    const collect = (chunk: Buffer) => {
      const text = chunk.toString()
      tail = (tail + text).slice(-4000)
      onOutput(text)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', (error) =>
      reject(new PolyplugError(ErrorCodes.BUILD_FAILED, `cannot run the build command ${JSON.stringify(command)}: ${error.message}`, { plugin: loaded.manifest.id, cause: error })),
    )
    child.on('exit', (code, signal) => {
      if (code === 0) return resolvePromise()
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      reject(new PolyplugError(ErrorCodes.BUILD_FAILED, `the build ${JSON.stringify(loaded.manifest.build!.command.join(' '))} ${how}:\n${tail.trimEnd()}`, { plugin: loaded.manifest.id, data: { code, signal } }))
    })
  })
}
