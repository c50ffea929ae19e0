/**
 * The sandbox of a process plugin, decided by the host (docs/confinement.md): which Landlock rules
 * this kernel enforces, whether a plugin may start without the ones it needs, and the command line
 * of the launcher (src/native/launcher.c) that applies them before it execs the plugin.
 *
 * Nothing here knows a kind or a transport: the process placement hands over paths, ports, the
 * program and its arguments; the transport's endpoint says what its own channel needs.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, openSync, readSync, closeSync, realpathSync, statSync } from 'node:fs'
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { EndpointNetwork } from '../transports/sidecar.js'
import { fsGrants } from './confine.js'
import { spawnError, spawnFailed } from './spawn-error.js'

/** The launcher binary, built by the Makefile next to the compiled sources. */
export const launcherPath = fileURLToPath(new URL('../native/polyplug-launch', import.meta.url))

/** One Landlock rule polyplug applies, and the ABI version that brought it. */
export interface SandboxRuleInfo {
  rule: SandboxRule
  abi: number
  what: string
}

export type SandboxRule = 'fs' | 'fs.refer' | 'fs.truncate' | 'net.tcp' | 'fs.ioctl-dev' | 'scope.signal' | 'scope.abstract-unix'

export const SANDBOX_RULES: readonly SandboxRuleInfo[] = [
  { rule: 'fs', abi: 1, what: 'reading, writing, executing and creating files only beneath granted paths' },
  { rule: 'fs.refer', abi: 2, what: 'renaming or linking files between folders only within granted paths' },
  { rule: 'fs.truncate', abi: 3, what: 'truncating files only beneath paths granted read-write' },
  { rule: 'net.tcp', abi: 4, what: 'TCP connect and bind only to granted ports and the plugin’s own transport endpoint' },
  { rule: 'fs.ioctl-dev', abi: 5, what: 'ioctl on device files only beneath granted paths' },
  { rule: 'scope.signal', abi: 6, what: 'no signals to processes outside the plugin’s sandbox (the host included)' },
  { rule: 'scope.abstract-unix', abi: 6, what: 'no connection to abstract UNIX sockets outside the sandbox' },
]

/** The application's choice for kernels that lack rules (HostOptions.sandbox). */
export interface SandboxOptions {
  /**
   * Start process plugins even where these rules are not enforced (`true`: any rule, and without
   * the launcher at all where it is not built). Default: refuse, with SANDBOX_UNAVAILABLE.
   */
  allowUnenforced?: true | readonly SandboxRule[]
}

let abiFound: number | undefined

/** The kernel's Landlock ABI version as the launcher sees it; 0 without Landlock or launcher. */
export function landlockAbi(): number {
  if (abiFound === undefined) {
    try {
      abiFound = process.platform === 'linux' && existsSync(launcherPath) ? Number(execFileSync(launcherPath, ['--abi'], { encoding: 'utf8' }).trim()) || 0 : 0
    } catch {
      abiFound = 0
    }
  }
  return abiFound
}

/** The rules this kernel does not enforce. */
export function unenforcedRules(abi = landlockAbi()): SandboxRuleInfo[] {
  return SANDBOX_RULES.filter((r) => r.abi > abi)
}

/** A manifest needs every rule, except net.tcp when it grants any connect and listening. */
export function requiredRules(manifest: Manifest): SandboxRule[] {
  const network = manifest.permissions?.network
  const openNet = network?.connect?.includes('*') === true && network.listen === true
  return SANDBOX_RULES.map((r) => r.rule).filter((rule) => !(openNet && rule === 'net.tcp'))
}

/** The rules this plugin must have enforced: those it needs, less those the application allows unenforced. */
function rulesToEnforce(manifest: Manifest, options: SandboxOptions): SandboxRuleInfo[] {
  const allowed = options.allowUnenforced
  if (allowed === true) return []
  const required = requiredRules(manifest)
  return SANDBOX_RULES.filter((r) => required.includes(r.rule) && !allowed?.includes(r.rule))
}

/** The Landlock ABI a kernel needs for the rules this plugin must have (0: none), leaving out those the application allows unenforced. */
export function neededAbi(manifest: Manifest, options: SandboxOptions = {}): number {
  return Math.max(0, ...rulesToEnforce(manifest, options).map((r) => r.abi))
}

/** SANDBOX_UNAVAILABLE naming the rules a kernel at `abi` does not enforce and this plugin needs, or undefined when it has them all. */
export function unenforcedError(id: string, manifest: Manifest, options: SandboxOptions, abi: number): PolyplugError | undefined {
  const missing = rulesToEnforce(manifest, options).filter((r) => r.abi > abi)
  if (missing.length === 0) return undefined
  const list = missing.map((r) => `${r.rule} (Landlock ABI ${r.abi}: ${r.what})`).join('; ')
  return new PolyplugError(ErrorCodes.SANDBOX_UNAVAILABLE, `this kernel (Landlock ABI ${abi}) does not enforce ${list}; to start the plugin without them, list them in the host option sandbox.allowUnenforced`, {
    plugin: id,
    data: { abi, unenforced: missing.map((r) => r.rule) },
  })
}

/**
 * Whether the launcher is used for this plugin, and the Landlock ABI it must find (its
 * `--need-abi`). Throws SANDBOX_UNAVAILABLE when the launcher is missing and the application did
 * not opt out. Whether the kernel enforces the rules the plugin needs is asked by the launcher
 * itself, before it does anything else (sandboxRefusal reads its answer), so the host spawns no
 * process to learn the ABI; given `abi`, it is checked here, and SANDBOX_UNAVAILABLE names the rules.
 */
export function checkSandbox(id: string, manifest: Manifest, options: SandboxOptions = {}, abi?: number): { launcher: boolean; needAbi: number } {
  const launcher = process.platform === 'linux' && existsSync(launcherPath)
  if (!launcher && options.allowUnenforced !== true) {
    throw new PolyplugError(ErrorCodes.SANDBOX_UNAVAILABLE, `the sandbox launcher is missing (${launcherPath}): build it with \`npm run build:native\` (Linux only), or start the plugin unconfined with the host option sandbox: { allowUnenforced: true }`, { plugin: id })
  }
  const refused = abi === undefined ? undefined : unenforcedError(id, manifest, options, abi)
  if (refused) throw refused
  return { launcher, needAbi: launcher ? neededAbi(manifest, options) : 0 }
}

/** The launcher's exit status when the kernel's Landlock ABI is below its `--need-abi` (src/native/launcher.c). */
export const LAUNCHER_REFUSED = 125

/**
 * SANDBOX_UNAVAILABLE for a launcher that refused to start the plugin (exit LAUNCHER_REFUSED, its
 * line "polyplug-launch: Landlock ABI N, needs M" in `stderr`), naming the rules as checkSandbox
 * would have; undefined for any other exit.
 */
export function sandboxRefusal(id: string, manifest: Manifest, options: SandboxOptions = {}, exitCode: number | null, stderr: string): PolyplugError | undefined {
  if (exitCode !== LAUNCHER_REFUSED) return undefined
  const abi = /^polyplug-launch: Landlock ABI (\d+), needs \d+(?=\r?\n|$)/m.exec(stderr)?.[1]
  return abi === undefined ? undefined : unenforcedError(id, manifest, options, Number(abi))
}

/** What the runtimes themselves read: shared libraries, the loader's cache, the time zone, own /proc. */
const RUNTIME_READ = ['/usr', '/lib', '/lib32', '/lib64', '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/localtime', '/etc/ssl/openssl.cnf', '/proc/self', '/sys/devices/system/cpu', '/sys/fs/cgroup']
/** Device files every program may use. */
const RUNTIME_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom']
/** Name resolution and TLS roots, for plugins granted network access. */
const NETWORK_READ = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/host.conf', '/etc/gai.conf', '/etc/ssl', '/etc/ca-certificates']
/** Where programs live: executable by plugins granted `process`, and by plugins started through a script. */
const PROGRAM_FOLDERS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/lib', '/usr/libexec']

/**
 * The absolute path of a command as spawn would find it (a bare name on PATH), or a PolyplugError
 * naming the command and the OS error, as spawn would have given it.
 */
export function resolveProgram(id: string, command: string, path: string | undefined): string {
  const candidates = command.includes('/') ? [resolve(command)] : (path ?? '').split(delimiter).filter(Boolean).map((d) => join(d, command))
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // next folder on PATH
    }
  }
  const code = command.includes('/') && existsSync(command) ? 'EACCES' : 'ENOENT'
  throw spawnFailed(id, command, spawnError(command, code))
}

/** The `#!` line of a script (without `#!`), or undefined for anything else. */
function shebang(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r')
    try {
      const head = Buffer.alloc(256)
      const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('latin1')
      return text.startsWith('#!') ? text.slice(2).split('\n')[0] : undefined
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
}

/** Interpreters whose scripts are made of running other programs. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox'])

/**
 * Whether starting `program` runs a shell script: the program is one, or its `#!` interpreter (or
 * what `#!/usr/bin/env NAME` finds on PATH) is one, e.g. a pyenv shim standing for `python3`. Such
 * a program only starts when it may run programs; a `#!/usr/bin/python3` script does not need to.
 */
function startsThroughShell(program: string, path: string | undefined, depth = 0): boolean {
  const line = depth > 4 ? undefined : shebang(program)
  if (!line) return false
  const [interpreter = '', arg] = line.trim().split(/[ \t]+/)
  const name = basename(interpreter)
  if (SHELLS.has(name)) return true
  if (name !== 'env' || !arg) return startsThroughShell(interpreter, path, depth + 1)
  if (SHELLS.has(basename(arg))) return true
  const target = (path ?? '').split(delimiter).filter(Boolean).map((d) => join(d, arg)).find((candidate) => existsSync(candidate))
  return target !== undefined && startsThroughShell(target, path, depth + 1)
}

/** The installation a program belongs to (…/bin/prog → …), when that is not the root folder. */
function programPrefix(program: string): string | undefined {
  const real = realpathSync(program)
  const prefix = dirname(dirname(real))
  return prefix === '/' || prefix === '.' ? undefined : prefix
}

/**
 * The `package.json` Node reads above a folder it loads code from: the nearest one in the folder or
 * its ancestors (Node's package scope lookup stops at the first it finds, at a `node_modules`
 * folder, and before `/`), or none. Node 24 fails with ERR_INVALID_PACKAGE_CONFIG where that read is
 * denied (20 and 22 took a denial for no file), so the sandbox grants reading this one file — not
 * its folder. A lookup that finds no file needs no grant: Landlock does not hide a missing file.
 */
export function packageScopeFile(path: string): string | undefined {
  let folder: string
  try {
    const real = realpathSync(path) // Node looks up from the real path of a module
    folder = statSync(real).isDirectory() ? real : dirname(real)
  } catch {
    return undefined // not there: nothing is loaded from it
  }
  for (;;) {
    if (basename(folder) === 'node_modules' || dirname(folder) === folder) return undefined
    const file = join(folder, 'package.json')
    try {
      if (statSync(file).isFile()) return file
    } catch {
      // none here: one folder up
    }
    folder = dirname(folder)
  }
}

export interface SandboxRequest {
  manifest: Manifest
  /** The plugin folder: readable. */
  dir: string
  /** The private working directory: readable and writable. */
  cwd: string
  /** The absolute program and its arguments (arguments naming files make their folders readable). */
  argv: readonly string[]
  /** More paths the runtime reads (the Node carrier: polyplug's dist and dependencies). */
  read?: readonly string[]
  /** Files the transport's channel opens (its FIFOs, its shared memory). */
  files?: { read: readonly string[]; write: readonly string[] }
  /** TCP ports the transport's channel uses. */
  network?: EndpointNetwork
  /** RLIMIT_AS in MiB (programs that do not reserve large virtual ranges). */
  addressSpaceMb?: number
  /** The Landlock ABI the kernel must have for this plugin (checkSandbox's needAbi): below it the launcher refuses. */
  needAbi?: number
  /** The host's pid: the launcher leaves at once when its parent is already another process. */
  hostPid?: number
  /** The plugin's PATH (what `#!/usr/bin/env NAME` looks NAME up on). */
  path?: string
}

/** The launcher's command line for one plugin: `[launcher, ...options, '--', program, ...args]`. */
export function sandboxCommand(request: SandboxRequest): string[] {
  const { manifest, argv } = request
  const program = argv[0] as string
  const args: string[] = []
  const add = (flag: string, values: Iterable<string | number>) => {
    for (const value of values) args.push(flag, String(value))
  }
  if (request.hostPid) add('--parent', [request.hostPid])
  if (request.needAbi) add('--need-abi', [request.needAbi])
  const grants = fsGrants(manifest, request.dir)
  const network = manifest.permissions?.network
  const connects = network?.connect ?? []
  const argFolders = argv.slice(1).filter((a) => isAbsolute(a) && existsSync(a)).map((a) => dirname(a))
  const prefix = programPrefix(program)
  const codeFolders = [request.dir, ...argFolders, ...(request.read ?? []), ...grants.read, ...grants.readwrite]
  const packageFiles = new Set(codeFolders.map(packageScopeFile).filter((file): file is string => file !== undefined))
  add('--read', [...RUNTIME_READ, request.dir, ...argFolders, ...(request.read ?? []), ...grants.read, ...(request.files?.read ?? []), ...packageFiles, ...(connects.length > 0 ? NETWORK_READ : [])])
  add('--write', [...RUNTIME_DEVICES, request.cwd, ...grants.readwrite, ...(request.files?.write ?? [])])
  // A shell script runs other programs (a pyenv shim runs readlink, sed, ...): it can only start
  // with the program folders executable, which lets it, and the plugin, spawn them.
  const spawns = manifest.permissions?.process === true || startsThroughShell(program, request.path)
  if (spawns) add('--exec', [...PROGRAM_FOLDERS, ...(prefix ? [prefix] : [])])
  else if (prefix) add('--read', [prefix])
  if (connects.includes('*')) args.push('--any-connect')
  else add('--connect', connects.map((c) => Number(c.slice(c.lastIndexOf(':') + 1))).filter((p) => Number.isInteger(p) && p > 0 && p < 65536))
  if (network?.listen === true) args.push('--any-bind')
  // UDP cannot be filtered by address or port (seccomp sees no socket address): any network grant
  // allows it (name resolution needs it), none denies it.
  if (connects.length > 0 || network?.listen === true) args.push('--udp')
  add('--connect', request.network?.connect ?? [])
  add('--bind', request.network?.bind ?? [])
  if (request.addressSpaceMb) add('--mem-mb', [request.addressSpaceMb])
  return [launcherPath, ...args, '--', ...argv]
}
