/**
 * Confinement of a sidecar process, derived from its manifest's `permissions` (docs/confinement.md).
 *
 * Every sidecar (exec plugins and the Node process carrier alike) gets an environment holding
 * only PATH, the variables it is granted and the protocol variables, and a private working
 * directory (0700, removed when the process is gone); the Landlock sandbox (sandbox.ts) is the
 * boundary. A Node carrier is also started under Node's permission model, a second layer: it may
 * read its own folder and entry, the polyplug package and the dependencies it loads, and the paths
 * it is granted; it may write only its private directory, its transport's files and the paths
 * granted read-write; it may start child processes and workers only when granted `process`.
 * Carriers that load addons (a kind or transport needing `addon`) get --allow-addons.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Manifest } from '../manifest/schema.js'

/** The polyplug package folder (this file is dist/src/placement/confine.js). */
const packageRoot = fileURLToPath(new URL('../../../', import.meta.url))

export interface NodeGrants {
  read: string[]
  write: string[]
  childProcess: boolean
  worker: boolean
  /** A wasm plugin may use node:wasi (whose preopens are exactly its fs grants). */
  wasi?: boolean
  /** Native addons may be loaded (a kind or transport that needs `addon`). */
  addons?: boolean
}

export interface Confinement {
  /** The whole environment of the process: nothing else from the host's is inherited. */
  env: Record<string, string>
  /** The private working directory. */
  cwd: string
  /** Node flags put before the carrier script (empty when the process is not a confined Node carrier). */
  nodeArgs: string[]
  /** What a Node carrier reads besides its grants (its folder, polyplug, its dependencies): the sandbox allows it too. */
  runtimeRead: string[]
  /** Removes the private working directory. */
  dispose(): Promise<void>
}

export interface ConfineRequest {
  manifest: Manifest
  /** The plugin folder (where polyplug.json is). */
  dir: string
  /** POLYPLUG_* variables, the transport's included. */
  protocolEnv: Record<string, string>
  /** True for the Node process carrier: confine it with Node's permission model. */
  nodePermissions: boolean
  /** What the plugin's transport and kind need beyond its manifest's grants. */
  grants?: CarrierNeeds
}

/** Derived from the registry by the process placement: files the transport opens, what the kind needs. */
export interface CarrierNeeds {
  read: string[]
  write: string[]
  /** The kind uses node:wasi (whose preopens are exactly its fs grants). */
  wasi: boolean
  /** The kind starts threads of its own (TypeScript's module hooks). */
  threads: boolean
  /** The kind or the transport loads a native addon (allowed with --allow-addons). */
  addons?: boolean
}

/** The flag that turns Node's permission model on, or undefined where this Node has none. */
export function permissionFlag(): string | undefined {
  const flags = process.allowedNodeEnvironmentFlags
  if (flags.has('--permission')) return '--permission' // stable name, Node 22.13+ / 23.5+
  if (flags.has('--experimental-permission')) return '--experimental-permission' // Node 20, early 22
  return undefined
}

/** Absolute paths of the manifest's fs grants, split by access; relative paths are from the plugin folder. */
export function fsGrants(manifest: Manifest, dir: string): { read: string[]; readwrite: string[] } {
  const read: string[] = []
  const readwrite: string[] = []
  for (const grant of manifest.permissions?.fs ?? []) {
    const path = isAbsolute(grant.path) ? grant.path : resolve(dir, grant.path)
    ;(grant.access === 'readwrite' ? readwrite : read).push(path)
  }
  return { read, readwrite }
}

/** The environment of a sidecar: PATH, granted variables that the host has, then the protocol's. */
export function sidecarEnv(manifest: Manifest, protocolEnv: Record<string, string>, hostEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {}
  if (hostEnv.PATH !== undefined) env.PATH = hostEnv.PATH
  for (const name of manifest.permissions?.env ?? []) {
    const value = hostEnv[name]
    if (value !== undefined) env[name] = value
  }
  return { ...env, ...protocolEnv }
}

let dependencyFoldersFound: string[] | undefined

/**
 * Where the polyplug package's dependencies are installed (its own node_modules, or the app's when
 * hoisted). Found once per host: it cannot change while the host runs, and every launch needs it.
 */
function dependencyFolders(): string[] {
  dependencyFoldersFound ??= findDependencyFolders()
  return dependencyFoldersFound
}

function findDependencyFolders(): string[] {
  const folders = new Set<string>()
  const own = join(packageRoot, 'node_modules')
  if (existsSync(own)) folders.add(own)
  try {
    const msgpackr = fileURLToPath(import.meta.resolve('msgpackr'))
    const marker = `${sep}node_modules${sep}`
    const at = msgpackr.lastIndexOf(marker)
    if (at >= 0) folders.add(msgpackr.slice(0, at + marker.length - 1))
  } catch {
    // not installed: the carrier will say so when it needs it
  }
  return [...folders]
}

/**
 * The paths not beneath another one of the list. Node 20 denies reading a granted folder itself
 * (readdir) when a folder beneath it is granted too; the outer grant covers the inner anyway.
 */
export function outermost(paths: readonly string[]): string[] {
  const unique = [...new Set(paths.map((p) => (p.length > 1 && p.endsWith(sep) ? p.slice(0, -1) : p)))]
  return unique.filter((p) => !unique.some((q) => q !== p && (p.startsWith(q + sep) || q === sep)))
}

/** Node permission-model flags for `grants`, spelled for the running Node version. */
export function nodePermissionArgs(grants: NodeGrants): string[] {
  const flag = permissionFlag()
  if (!flag) return []
  // One flag per path: Node 20.7+ no longer splits a flag's value on commas.
  const args = [flag, ...outermost(grants.read).map((p) => `--allow-fs-read=${p}`), ...outermost(grants.write).map((p) => `--allow-fs-write=${p}`)]
  if (grants.childProcess) args.push('--allow-child-process')
  if (grants.worker) args.push('--allow-worker')
  // node:wasi opens preopened folders itself, past the fs checks; they are the plugin's fs grants.
  if (grants.wasi && process.allowedNodeEnvironmentFlags.has('--allow-wasi')) args.push('--allow-wasi')
  if (grants.addons && process.allowedNodeEnvironmentFlags.has('--allow-addons')) args.push('--allow-addons')
  // The permission model prints an ExperimentalWarning on Node 20, and --allow-addons,
  // --allow-worker and --allow-wasi a SecurityWarning each (again in every worker): the host chose
  // those flags, so the warnings would only be noise in the plugin's log.
  if (process.allowedNodeEnvironmentFlags.has('--disable-warning')) {
    args.push('--disable-warning=ExperimentalWarning')
    if (grants.addons || grants.worker || grants.wasi) args.push('--disable-warning=SecurityWarning')
  }
  return args
}

/** What a confined Node carrier may read and write: its own folder, polyplug, its dependencies, its grants. */
export function carrierGrants(manifest: Manifest, dir: string, cwd: string, needs: CarrierNeeds = NO_NEEDS): NodeGrants {
  const { read, readwrite } = fsGrants(manifest, dir)
  const process = manifest.permissions?.process === true
  return {
    // The entry may lie outside the folder (an absolute `entry`): the plugin's own code is readable.
    read: [dir, resolve(dir, manifest.entry), join(packageRoot, 'dist'), join(packageRoot, 'package.json'), ...dependencyFolders(), cwd, ...needs.read, ...read, ...readwrite],
    write: [cwd, ...needs.write, ...readwrite],
    childProcess: process,
    // Threads a kind starts itself (the TypeScript loader's module hooks, src/kinds/ts-hooks.ts)
    // run under the same permissions as the rest of the process.
    worker: process || needs.threads,
    wasi: needs.wasi,
    addons: needs.addons === true,
  }
}

const NO_NEEDS: CarrierNeeds = { read: [], write: [], wasi: false, threads: false }

/** Makes the private directory and works out the environment and Node flags of one launch. */
export async function confine(request: ConfineRequest): Promise<Confinement> {
  const cwd = await mkdtemp(join(tmpdir(), 'polyplug-cwd-')) // mkdtemp creates it 0700
  const env = sidecarEnv(request.manifest, request.protocolEnv)
  const grants = carrierGrants(request.manifest, request.dir, cwd, request.grants)
  const nodeArgs = request.nodePermissions ? nodePermissionArgs(grants) : []
  return {
    env,
    cwd,
    nodeArgs,
    runtimeRead: grants.read,
    dispose: () => rm(cwd, { recursive: true, force: true }),
  }
}

/**
 * An exec plugin's argv, made independent of the working directory (which is now private):
 * a command with a slash, and any argument naming an existing file in the plugin folder, become
 * absolute paths. A bare command name (`python3`) is still looked up on PATH.
 */
export function resolveArgv(argv: readonly string[], dir: string): string[] {
  return argv.map((arg, i) => {
    if (isAbsolute(arg) || arg.startsWith('-')) return arg
    if (i === 0) return arg.includes('/') ? resolve(dir, arg) : arg
    const candidate = resolve(dir, arg)
    return existsSync(candidate) ? candidate : arg
  })
}
