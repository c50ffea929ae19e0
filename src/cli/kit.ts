/**
 * `polyplug kit NAME DIR`: copies a plugin kit shipped in the package (kits/) into a plugin folder,
 * so a plugin in another language starts from the host's own copy of its protocol code.
 */
import { cp, readdir, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from './output.js'

const kitsRoot = fileURLToPath(new URL('../../../kits/', import.meta.url))

/** Kit name → its folder under kits/ and the files there a plugin folder does not need (the repository's build, the host's own side). */
export const KITS: Record<string, { folder: string; about: string; repositoryOnly: string[] }> = {
  // polyplug_pyodide.py runs on the host's side of the in-process `python` kind, never in a sidecar.
  python: { folder: 'python', about: 'Python sidecars (stdlib only): import polyplug', repositoryOnly: ['polyplug_pyodide.py'] },
  c: { folder: 'c-sidecar', about: 'C sidecars (libc and jansson; mqtt with libmosquitto)', repositoryOnly: ['Makefile'] },
  rust: { folder: 'rust-sidecar', about: 'Rust sidecars (std and serde_json, offline from Debian\'s crates)', repositoryOnly: ['Cargo.toml', 'Cargo.lock'] },
  'c-native': { folder: 'c', about: 'native (in-process) and wasm plugins in C: polyplug.h', repositoryOnly: [] },
  'rust-native': { folder: 'rust', about: 'native (in-process) plugins in Rust', repositoryOnly: [] },
  go: { folder: 'go', about: 'Go sidecars (standard library only): package polyplug', repositoryOnly: ['examples'] },
  assemblyscript: { folder: 'assemblyscript', about: 'wasm plugins in AssemblyScript', repositoryOnly: [] },
}

const BUILD_OUTPUTS = new Set(['target', '__pycache__'])

export function kitUsage(): string {
  return Object.entries(KITS).map(([name, kit]) => `    ${name.padEnd(15)} ${kit.about}`).join('\n')
}

/** Copies kit NAME into DIR; existing files are kept unless `force`. Returns the copied paths. */
export async function copyKit(name: string, dir: string, force: boolean): Promise<string[]> {
  const kit = KITS[name]
  if (!kit) throw new UsageError(`unknown kit "${name}"; kits:\n${kitUsage()}`)
  const from = join(kitsRoot, kit.folder)
  const copied: string[] = []
  for (const entry of await readdir(from)) {
    if (BUILD_OUTPUTS.has(entry) || kit.repositoryOnly.includes(entry)) continue
    const target = join(dir, entry)
    if (!force && (await stat(target).catch(() => undefined))) throw new UsageError(`${target} exists; pass --force to overwrite it`)
    await cp(join(from, entry), target, { recursive: true, force, filter: (path) => !BUILD_OUTPUTS.has(relative(from, path).split(/[\\/]/).pop() ?? '') })
    copied.push(entry)
  }
  return copied
}

export async function runKit(positionals: string[], force: boolean): Promise<number> {
  const [name, dir] = positionals
  if (!name || !dir) throw new UsageError(`kit needs NAME and DIR; kits:\n${kitUsage()}`)
  const copied = await copyKit(name, dir, force)
  process.stdout.write(`copied the ${name} kit into ${dir}: ${copied.join(', ')}\n`)
  return 0
}
