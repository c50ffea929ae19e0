/**
 * Optional system tools the suite can use, each with the command that installs it. A test that needs
 * one asks `requires(...)` and passes the answer as its `skip` option, so a machine without the tool
 * reports a real skip with the reason and the fix. `POLYPLUG_REQUIRE_ALL=1` (set by .ci/run) turns every
 * such skip into a failure: CI can never pass by skipping.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface Requirement {
  /** What is missing, as a reader would name it. */
  readonly name: string
  /** The command that installs it on this kind of machine. */
  readonly install: string
  readonly present: () => boolean
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Debian's python3 (not a pyenv or venv one on PATH) can import `module`: for Debian python3-* packages. */
function debianPythonHas(module: string): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function npmPackage(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name)
    return true
  } catch {
    return false
  }
}

/** clang names the wasm32 builtins library it links; it exists only with libclang-rt-*-dev-wasm32. */
function wasmRuntimePresent(): boolean {
  try {
    return existsSync(execFileSync('clang', ['--target=wasm32-wasi', '-print-libgcc-file-name'], { encoding: 'utf8' }).trim())
  } catch {
    return false
  }
}

/** Debian's crate directory: the Rust kits' .cargo/config.toml replaces crates.io with it (cargo --offline). */
export const debianCrates = '/usr/share/cargo/registry'

function debianCrate(name: string): boolean {
  try {
    return readdirSync(debianCrates).some((entry) => entry.startsWith(`${name}-`))
  } catch {
    return false
  }
}

const cache = new Map<Requirement, boolean>()

export const tools = {
  mosquitto: { name: 'mosquitto (the MQTT broker)', install: 'apt-get install -y mosquitto', present: () => onPath('mosquitto') || existsSync('/usr/sbin/mosquitto') },
  libmosquitto: { name: 'libmosquitto-dev (the C kit\'s mqtt transport)', install: 'apt-get install -y libmosquitto-dev', present: () => existsSync('/usr/include/mosquitto.h') },
  clang: {
    name: 'clang, wasm-ld, wasi-libc and the wasm32 compiler runtime (C to WebAssembly)',
    install: 'apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32',
    present: () => onPath('clang') && onPath('wasm-ld') && existsSync('/usr/lib/wasm32-wasi/libc.a') && wasmRuntimePresent(),
  },
  go: { name: 'go', install: 'apt-get install -y golang-go', present: () => onPath('go') },
  chromium: { name: 'chromium (headless browser tests)', install: 'apt-get install -y chromium', present: () => existsSync('/usr/bin/chromium') },
  cargo: { name: 'cargo (the Rust kits)', install: 'apt-get install -y cargo', present: () => onPath('cargo') },
  python3: { name: 'python3 (the Python kit)', install: 'apt-get install -y python3', present: () => onPath('python3') },
  gcc: { name: 'gcc and make (C kits and native plugins)', install: 'apt-get install -y gcc make libc6-dev', present: () => onPath('gcc') && onPath('make') },
  jansson: { name: 'libjansson-dev (the C sidecar kit\'s JSON)', install: 'apt-get install -y libjansson-dev', present: () => existsSync('/usr/include/jansson.h') },
  serdeJson: {
    name: "serde_json from Debian's crate directory (the Rust kits' JSON, built offline)",
    install: 'apt-get install -y librust-serde-json-dev',
    present: () => debianCrate('serde_json'),
  },
  promParser: { name: 'the Prometheus Python client\'s text parser (a /metrics oracle)', install: 'apt-get install -y python3-prometheus-client', present: () => debianPythonHas('prometheus_client') },
  nodeHeaders: {
    name: "Node's C headers (node_api.h, for the shm addon)",
    install: 'apt-get install -y libnode-dev',
    present: () => [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].some((d) => existsSync(join(d, 'node_api.h'))),
  },
  bwrap: { name: 'bubblewrap', install: 'apt-get install -y bubblewrap', present: () => onPath('bwrap') },
  /** script(1), to run a program with a pseudo-terminal as its controlling terminal. */
  script: { name: 'script (util-linux)', install: 'apt-get install -y bsdutils', present: () => existsSync('/usr/bin/script') },
} satisfies Record<string, Requirement>

/** A requirement on an npm package that polyplug treats as optional (e.g. pyodide, playwright-core). */
export function npm(name: string): Requirement {
  return { name: `the npm package ${name}`, install: `npm install ${name}`, present: () => npmPackage(name) }
}

export const requireAll = process.env.POLYPLUG_REQUIRE_ALL === '1'

/**
 * `false` when every requirement is present, otherwise the skip reason naming what is missing and how
 * to install it. With POLYPLUG_REQUIRE_ALL=1 a missing requirement throws instead, failing the test file.
 *   describe('mosquitto', { skip: requires(tools.mosquitto) }, () => { ... })
 */
export function requires(...needed: Requirement[]): string | false {
  const missing = needed.filter((r) => {
    if (!cache.has(r)) cache.set(r, r.present())
    return !cache.get(r)
  })
  if (missing.length === 0) return false
  const reason = `needs ${missing.map((r) => `${r.name} (${r.install})`).join(', ')}`
  if (requireAll) throw new Error(`POLYPLUG_REQUIRE_ALL=1 forbids skipping: this test ${reason}`)
  return reason
}

/**
 * Build outputs that `npm run build` (scripts/build.mjs) makes only when their toolchain or library is
 * present: a test of one of them needs what built it.
 */
const artefacts: [RegExp, Requirement[]][] = [
  [/\/examples\/shared\/bin\/c-conformance$/, [tools.gcc, tools.jansson]],
  [/\/examples\/shared\/bin\/c-conformance-mqtt$/, [tools.gcc, tools.jansson, tools.libmosquitto]],
  [/\/test\/fixtures\/escape\/probe-sidecar$/, [tools.gcc, tools.jansson]],
  [/\/kits\/rust-sidecar\/target\//, [tools.cargo, tools.serdeJson]],
  [/\/examples\/native-rust-[^/]+\/libconformance\.so$/, [tools.cargo, tools.serdeJson]],
]

/** What the file at `path` needs to have been built (nothing for sources and committed files). */
export function builtWith(path: string): Requirement[] {
  return artefacts.filter(([pattern]) => pattern.test(path)).flatMap(([, needed]) => needed)
}
