/**
 * Pyodide interpreters for `python` plugins. One interpreter per set of grants per thread: inline
 * plugins whose `permissions` (fs, env, network) are the same share one (each in its own module
 * namespace), because an interpreter's mounts, environment and sockets are the grants; a worker
 * has its own thread and so its own. Loading is lazy (first activation) and starts from a memory
 * snapshot cached on disk (Pyodide's `makeMemorySnapshot`), which cuts a cold load several-fold.
 *
 * What an interpreter can reach (docs/confinement.md): `jsglobals` is an empty object; the kit
 * modules are loaded, then `polyplug_pyodide.lockdown` takes away `js`, `pyodide_js`, `pyodide.*`,
 * ctypes and the process calls; sockets fail unless `network` is granted (SOCKFS refuses them);
 * only granted folders are mounted (NODEFS), writes refused unless granted `readwrite`.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { privateCacheDir } from './ts-cache.js'

/** The parts of Pyodide's API polyplug uses (its own types come with the optional package). */
export interface Pyodide {
  runPython(code: string, options?: { globals?: unknown }): unknown
  pyimport(name: string): PyProxy
  setInterruptBuffer(buffer: Int32Array | undefined): void
  makeMemorySnapshot(): Uint8Array
  unregisterJsModule(name: string): void
  toPy(value: unknown): unknown
  FS: EmscriptenFS
  _module: { SOCKFS?: { createSocket: (...args: unknown[]) => unknown } }
  version: string
}
export type PyProxy = Record<string, (...args: unknown[]) => unknown> & { destroy?(): void }
interface FSNode {
  mount: { opts?: { root?: string; polyplugReadOnly?: boolean } }
}
interface EmscriptenFS {
  mkdirTree(path: string): void
  writeFile(path: string, data: string | Uint8Array): void
  mount(type: unknown, opts: object, mountpoint: string): void
  filesystems: { NODEFS: unknown }
  nodePermissions(node: FSNode, perms: string): number
  lookupPath(path: string): { node: FSNode }
  ErrnoError: new (errno: number) => Error
  [name: string]: unknown
}

export interface Runtime {
  readonly py: Pyodide
  readonly glue: PyProxy
  /** Set when the interpreter exited (a plugin called os._exit): nothing more can run in it. */
  dead: boolean
  /** How many plugins this interpreter has loaded (their module names). */
  loaded: number
}

const kitDir = fileURLToPath(new URL('../../../kits/python/', import.meta.url))
const EACCES = 2

export interface Grants {
  /** Absolute host paths with their access. */
  fs: { path: string; access: 'read' | 'readwrite' }[]
  env: Record<string, string>
  network: boolean
}

/** The grants an interpreter is made for, from the manifest (relative fs paths from `dir`). */
export function grantsOf(manifest: Manifest, dir: string, hostEnv: NodeJS.ProcessEnv = process.env): Grants {
  const permissions = manifest.permissions
  const env: Record<string, string> = {}
  for (const name of permissions?.env ?? []) if (hostEnv[name] !== undefined) env[name] = hostEnv[name]
  return {
    fs: (permissions?.fs ?? []).map((g) => ({ path: isAbsolute(g.path) ? g.path : resolve(dir, g.path), access: g.access })),
    env,
    network: (permissions?.network?.connect?.length ?? 0) > 0 || permissions?.network?.listen === true,
  }
}

const runtimes = new Map<string, Promise<Runtime>>()
let started = 0

/** How many interpreters this thread has started (lazy activation starts none until a call). */
export function interpretersLoaded(): number {
  return started
}

/** The interpreter for these grants on this thread, loaded on first use. */
export function runtimeFor(grants: Grants, plugin: string): Promise<Runtime> {
  const key = JSON.stringify(grants)
  const existing = runtimes.get(key)
  if (existing) {
    return existing.then((runtime) => {
      if (!runtime.dead) return runtime
      runtimes.delete(key)
      return runtimeFor(grants, plugin)
    })
  }
  const made = makeRuntime(grants, plugin)
  runtimes.set(key, made)
  made.catch(() => runtimes.delete(key))
  return made
}

type LoadPyodide = (options: Record<string, unknown>) => Promise<Pyodide>

async function importPyodide(plugin: string): Promise<{ loadPyodide: LoadPyodide; version: string }> {
  try {
    const mod = (await import('pyodide')) as unknown as { loadPyodide: LoadPyodide; version: string }
    return mod
  } catch (cause) {
    throw new PolyplugError(
      ErrorCodes.PLUGIN_UNAVAILABLE,
      'a python plugin placed inline or in a worker runs in Pyodide, which is not installed: run `npm install pyodide` in the application (or place the plugin in a sidecar: kind "exec")',
      { plugin, cause },
    )
  }
}

function snapshotPath(version: string): string | undefined {
  const dir = privateCacheDir('POLYPLUG_PYODIDE_CACHE', 'polyplug-pyodide-cache')
  if (!dir) return undefined
  const key = createHash('sha256').update(`${version}\0${process.arch}\0${process.version}`).digest('hex').slice(0, 16)
  return join(dir, `snapshot-${key}.bin`)
}

/**
 * Lets the snapshot's bytes go once the interpreter's memory has been restored from them: Pyodide
 * keeps the options it was started with for the interpreter's life, `_loadSnapshot` among them, so
 * the whole file (≈30 MiB, read in, so resident) stayed beside the memory made from it. Moving its
 * buffer away detaches it (every view of it then reads as empty) and nothing holds the bytes. A
 * buffer shared with others (Node's pool for small reads) is left as it is.
 */
function release(bytes: Uint8Array): void {
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) return
  try {
    structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] })
  } catch {
    // not transferable: kept, as before
  }
}

async function makeRuntime(grants: Grants, plugin: string): Promise<Runtime> {
  started++
  const { loadPyodide } = await importPyodide(plugin)
  const version = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('pyodide/package.json'), 'utf8')) as { version: string }).version
  const snapshotFile = snapshotPath(version)
  let snapshot: Uint8Array | undefined
  try {
    if (snapshotFile) snapshot = readFileSync(snapshotFile)
  } catch {
    snapshot = undefined
  }
  const options = {
    // What `import js` sees: nothing the host did not hand over.
    jsglobals: Object.create(null) as object,
    env: { HOME: '/home/pyodide' },
    stdout: (line: string) => process.stderr.write(`[${plugin}] ${line}\n`),
    stderr: (line: string) => process.stderr.write(`[${plugin}] ${line}\n`),
  }
  let py: Pyodide
  try {
    py = await loadPyodide(snapshot ? { ...options, _loadSnapshot: snapshot } : { ...options, _makeSnapshot: Boolean(snapshotFile) })
    if (snapshot) release(snapshot)
  } catch (cause) {
    if (!snapshot) throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `Pyodide failed to start: ${(cause as Error).message}`, { plugin, cause })
    py = await loadPyodide(options) // a stale or damaged snapshot: start without it
  }
  if (!snapshot && snapshotFile) {
    try {
      const temp = `${snapshotFile}.${process.pid}.${Math.random().toString(36).slice(2)}`
      writeFileSync(temp, py.makeMemorySnapshot(), { mode: 0o600 })
      renameSync(temp, snapshotFile)
    } catch {
      // no cache this time
    }
  }
  confineFiles(py, grants)
  if (!grants.network) refuseSockets(py)
  py.FS.mkdirTree('/polyplug/kit')
  for (const file of readdirSync(kitDir)) if (file.endsWith('.py')) py.FS.writeFile(`/polyplug/kit/${file}`, readFileSync(join(kitDir, file)))
  py.runPython('import sys; sys.path.insert(0, "/polyplug/kit"); import polyplug, polyplug_pyodide')
  const glue = py.pyimport('polyplug_pyodide')
  for (const name of ['js', 'pyodide_js']) {
    try {
      py.unregisterJsModule(name)
    } catch {
      // not registered in this version
    }
  }
  glue.lockdown!(py.toPy(grants.env))
  return { py, glue, dead: false, loaded: 0 }
}

/** Mounts the granted folders at their own paths; writes under a `read` grant are refused. */
function confineFiles(py: Pyodide, grants: Grants): void {
  const FS = py.FS
  for (const grant of grants.fs) {
    FS.mkdirTree(grant.path)
    FS.mount(FS.filesystems.NODEFS, { root: grant.path, polyplugReadOnly: grant.access !== 'readwrite' }, grant.path)
  }
  const readOnly = (node: FSNode) => node.mount?.opts?.polyplugReadOnly === true
  const permissions = FS.nodePermissions.bind(FS)
  FS.nodePermissions = (node, perms) => (perms.includes('w') && readOnly(node) ? EACCES : permissions(node, perms))
  // Calls that change a node without asking nodePermissions.
  for (const name of ['chmod', 'lchmod', 'fchmod', 'chown', 'lchown', 'fchown', 'utime', 'truncate', 'ftruncate']) {
    const original = FS[name]
    if (typeof original !== 'function') continue
    FS[name] = (target: unknown, ...rest: unknown[]) => {
      const node = typeof target === 'string' ? FS.lookupPath(target).node : (FS.getStream as ((fd: unknown) => { node: FSNode } | undefined) | undefined)?.(target)?.node
      if (node && readOnly(node)) throw new FS.ErrnoError(EACCES)
      return (original as (...args: unknown[]) => unknown).call(FS, target, ...rest)
    }
  }
}

/** Without a network grant, every socket() fails with EACCES. */
function refuseSockets(py: Pyodide): void {
  const sockfs = py._module.SOCKFS
  const FS = py.FS
  if (sockfs) {
    sockfs.createSocket = () => {
      throw new FS.ErrnoError(EACCES)
    }
  }
}
