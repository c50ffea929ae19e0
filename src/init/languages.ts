/**
 * What `polyplug init` writes for each language: the plugin's sources (the conformance plugin of
 * examples/shared, which exercises every check of `polyplug check`), the kit it builds on, and the
 * manifest fields of its kind, including the build a compiled plugin declares. One entry per language.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { sideFor, transportModule } from '../registry/index.js'

/** The package's root: kits/ and examples/shared/ ship with it (package.json "files"). */
const root = fileURLToPath(new URL('../../../', import.meta.url))

export const source = (path: string): Promise<string> => readFile(root + path, 'utf8')

/** What a scaffold is built from: the plugin's id and where it runs. */
export interface ScaffoldTarget {
  id: string
  placement: 'inline' | 'worker' | 'process'
  transport: string
}

export interface Language {
  readonly about: string
  /** The manifest's kind. */
  readonly kind: 'js' | 'exec' | 'native' | 'wasm'
  /** Transports it speaks (the first is the default); undefined: every transport of its placement. */
  readonly transports?: readonly string[]
  /** The `polyplug kit` the scaffold copies, if any. */
  readonly kit?: string
  /** What the build or run needs, and how to install it (README and tests). */
  readonly toolchain?: { command: string; install: string }
  /** Files to write (path → text), beside the kit. */
  files(target: ScaffoldTarget): Promise<Record<string, string>>
  /** The manifest fields beyond id, version, description, placement and transport. */
  manifest(target: ScaffoldTarget): Record<string, unknown>
  /** How the README tells a reader to change the plugin. */
  readonly edit: string
}

/** Where a plugin runs given its transport: the first of inline, process, worker that the transport's module serves (the registry says; shm serves both process and worker, and a scaffold puts it in a process). */
export function placementOf(transport: string): ScaffoldTarget['placement'] {
  const module = transportModule(transport)
  return (['inline', 'process', 'worker'] as const).find((placement) => module !== undefined && sideFor(module, placement) !== undefined) ?? 'process'
}

/** The Rust kits read and write JSON with serde_json, from Debian's crate directory (their .cargo/config.toml). */
const cargoToml = (id: string, extra: string, dependencies: string) =>
  `[package]\nname = "${id.replace(/[^a-z0-9_]/g, '_')}"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n${dependencies}\n${extra}\n[profile.release]\nopt-level = 2\ndebug = false\n`

const javascript: Language = {
  about: 'JavaScript (kind js): inline, in a worker or in its own process; no build',
  kind: 'js',
  transports: ['direct', 'port', 'stdio', 'unix', 'tcp', 'fifo', 'http', 'ws'],
  async files() {
    return { 'index.js': await source('examples/shared/conformance.js') }
  },
  manifest: () => ({ kind: 'js', entry: 'index.js' }),
  edit: 'Add a method to `methods` in index.js; its arguments are the call\'s positional arguments and the last one is the call context.',
}

const typescript: Language = {
  about: 'TypeScript (kind js, transpiled on load): inline, in a worker or in its own process; no build',
  kind: 'js',
  transports: javascript.transports,
  async files() {
    return { 'index.ts': await source('examples/ts-inline/index.ts'), 'bytes.ts': await source('examples/ts-inline/bytes.ts') }
  },
  manifest: () => ({ kind: 'js', entry: 'index.ts' }),
  edit: 'Add a method to `methods` in index.ts; polyplug transpiles it when it loads, so there is no build step.',
}

const python: Language = {
  about: 'Python 3 sidecar (kind exec) on the stdlib-only Python kit',
  kind: 'exec',
  transports: ['stdio', 'unix', 'tcp', 'fifo', 'http', 'ws', 'shm'],
  kit: 'python',
  toolchain: { command: 'python3', install: 'apt-get install -y python3' },
  async files() {
    const text = (await source('examples/shared/conformance.py')).replace(/^sys\.path\.insert\(.*\n/m, '').replace('import polyplug  # noqa: E402', 'import polyplug')
    return { 'main.py': text.replace(/^import sys\n/m, '') }
  },
  manifest: () => ({ kind: 'exec', entry: 'main.py', sidecar: { command: ['python3', 'main.py'] } }),
  edit: 'Add a function to main.py decorated with `@plugin.method`; a parameter named `ctx` receives the call context (cancellation, host calls).',
}

/** The C sidecar kit's sources (kits/c-sidecar) a plugin links, mqtt aside. */
const cKit = ['polyplug.c', 'polyplug_json.c', 'polyplug_wire.c', 'polyplug_stream.c']

const c: Language = {
  about: 'C sidecar (kind exec) on the C kit (libc and jansson), built with gcc',
  kind: 'exec',
  transports: ['stdio', 'unix', 'tcp', 'fifo'],
  kit: 'c',
  toolchain: { command: 'gcc', install: 'apt-get install -y gcc libc6-dev libjansson-dev' },
  async files() {
    return { 'plugin.c': await source('examples/shared/conformance.c') }
  },
  manifest: () => ({
    kind: 'exec',
    entry: 'plugin',
    sidecar: { command: ['./plugin'] },
    build: {
      command: ['gcc', '-std=c99', '-O2', '-Wall', '-Wextra', '-I.', '-o', 'plugin', 'plugin.c', ...cKit, '-ljansson', '-lm'],
      inputs: ['plugin.c', ...cKit, 'polyplug.h', 'polyplug_stream.h', 'polyplug_transport.h'],
      outputs: ['plugin'],
    },
  }),
  edit: 'Write a function `pp_value *name(pp_ctx *ctx, const pp_value *params)` in plugin.c and register it in `main` with `pp_method`; polyplug.h documents the kit.',
}

const rust: Language = {
  about: 'Rust sidecar (kind exec) on the Rust kit (std and serde_json), built with cargo --offline',
  kind: 'exec',
  transports: ['stdio', 'unix', 'tcp', 'fifo'],
  kit: 'rust',
  toolchain: { command: 'cargo', install: 'apt-get install -y cargo librust-serde-json-dev' },
  async files(target) {
    return {
      'Cargo.toml': cargoToml(target.id, '[lib]\nname = "polyplug"\npath = "src/lib.rs"\n\n[[bin]]\nname = "plugin"\npath = "src/main.rs"\n', 'serde = "1"\nserde_json = "1"\n'),
      'src/main.rs': await source('examples/shared/conformance.rs'),
    }
  },
  manifest: () => ({
    kind: 'exec',
    entry: 'target/release/plugin',
    sidecar: { command: ['./target/release/plugin'] },
    build: { command: ['cargo', 'build', '--release', '--offline', '--quiet'], inputs: ['Cargo.toml', '.cargo', 'src'], outputs: ['target/release/plugin'] },
  }),
  edit: 'Add `.method("name", |ctx, params| ...)` to the `Plugin::new()` chain in src/main.rs; src/lib.rs is the kit.',
}

const go: Language = {
  about: 'Go sidecar (kind exec) on the standard-library-only Go kit, built with go build',
  kind: 'exec',
  transports: ['stdio', 'unix', 'tcp', 'fifo'],
  kit: 'go',
  toolchain: { command: 'go', install: 'apt-get install -y golang-go' },
  async files() {
    return { 'main.go': await source('kits/go/examples/conformance.go') }
  },
  manifest: () => ({
    kind: 'exec',
    entry: 'plugin',
    sidecar: { command: ['./plugin'] },
    build: { command: ['go', 'build', '-o', 'plugin', '.'], inputs: ['go.mod', 'main.go', 'polyplug'], outputs: ['plugin'] },
  }),
  edit: 'Add `p.Method("name", func(ctx *polyplug.Ctx, params []any) (any, error) { ... })` in main.go; `ctx.Sleep`, `ctx.Done()` and `ctx.Call` give cancellation and host calls, `polyplug.Produce` a stream result (see count and sum).',
}

const cNative: Language = {
  about: 'C native plugin (kind native, a shared library), built with gcc',
  kind: 'native',
  transports: ['direct', 'port', 'stdio'],
  toolchain: c.toolchain,
  async files() {
    return { 'plugin.c': await source('examples/shared/native-conformance.c'), 'polyplug.h': await source('kits/c/include/polyplug.h') }
  },
  manifest: () => ({
    kind: 'native',
    entry: 'libplugin.so',
    build: { command: ['gcc', '-O2', '-Wall', '-Wextra', '-fPIC', '-fvisibility=hidden', '-shared', '-I.', '-o', 'libplugin.so', 'plugin.c'], inputs: ['plugin.c', 'polyplug.h'], outputs: ['libplugin.so'] },
  }),
  edit: 'Add a case to the method table in plugin.c; polyplug.h (docs/native-abi.md) is the ABI.',
}

const rustNative: Language = {
  about: 'Rust native plugin (kind native, a cdylib on serde_json), built with cargo --offline',
  kind: 'native',
  transports: cNative.transports,
  toolchain: rust.toolchain,
  async files(target) {
    return {
      'Cargo.toml': cargoToml(target.id, '[lib]\nname = "plugin"\ncrate-type = ["cdylib"]\npath = "src/lib.rs"\n', 'serde_json = "1"\n').replace('[profile.release]\n', '[profile.release]\npanic = "abort"\n'),
      'src/lib.rs': await source('kits/rust/src/lib.rs'),
      'src/polyplug.rs': await source('kits/rust/src/polyplug.rs'),
      '.cargo/config.toml': await source('kits/rust/.cargo/config.toml'),
    }
  },
  manifest: () => ({
    kind: 'native',
    entry: 'target/release/libplugin.so',
    build: { command: ['cargo', 'build', '--release', '--offline', '--quiet'], inputs: ['Cargo.toml', '.cargo', 'src'], outputs: ['target/release/libplugin.so'] },
  }),
  edit: 'Add a method to the dispatch in src/lib.rs; src/polyplug.rs (docs/native-abi.md) is the ABI.',
}

/** clang for wasm32-wasi: a reactor module (no main), its memory capped where the manifest's limit expects it. */
const WASI_CLANG = ['clang', '--target=wasm32-wasi', '-O2', '-mexec-model=reactor', '-Wall', '-Wextra', '-Wno-unused-parameter', '-I.']

const cWasm: Language = {
  about: 'C compiled to WebAssembly (kind wasm, wasm32-wasi), built with clang; in a worker or inline',
  kind: 'wasm',
  // wasm runs on the host's side: a worker (host calls block only the worker) or the host thread.
  transports: ['port', 'direct'],
  toolchain: { command: 'clang and wasm-ld', install: 'apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32' },
  async files() {
    return { 'plugin.c': await source('kits/c/examples/conformance.c'), 'polyplug_wasm.h': await source('kits/c/include/polyplug_wasm.h') }
  },
  manifest: () => ({
    kind: 'wasm',
    entry: 'plugin.wasm',
    limits: { memoryMb: 64 },
    build: {
      command: [...WASI_CLANG, '-Wl,--max-memory=67108864', '-Wl,--strip-all', '-o', 'plugin.wasm', 'plugin.c'],
      inputs: ['plugin.c', 'polyplug_wasm.h'],
      outputs: ['plugin.wasm'],
    },
  }),
  edit: 'Add the method\'s name to `polyplug_plugin_methods` and a `pp_is(method, "name")` case to `polyplug_plugin_call` in plugin.c; polyplug_wasm.h (docs/wasm-abi.md) is the ABI and its JSON helpers.',
}

/** The AssemblyScript compiler the scaffold builds with: fetched from the npm registry into npm's cache on the first build, or the plugin's own `npm install`ed copy. */
const ASSEMBLYSCRIPT = 'assemblyscript@0.28.20'

const assemblyscript: Language = {
  about: `AssemblyScript (kind wasm), built with asc (${ASSEMBLYSCRIPT}, via npx); in a worker or inline`,
  kind: 'wasm',
  transports: cWasm.transports,
  toolchain: { command: 'npx', install: `Node.js with npm; the first build fetches ${ASSEMBLYSCRIPT} from the npm registry` },
  async files() {
    const [name, version] = ASSEMBLYSCRIPT.split('@')
    const index = (await source('kits/assemblyscript/examples/conformance.ts')).replace(/"\.\.\/polyplug"/g, '"./polyplug"')
    return {
      'index.ts': index.replace(/^\/\/ Built by .*\n/m, ''),
      'polyplug.ts': await source('kits/assemblyscript/polyplug.ts'),
      // For an editor: `npm install` brings AssemblyScript's types, and the build then uses that copy.
      'package.json': `${JSON.stringify({ private: true, type: 'module', devDependencies: { [name!]: version } }, null, 2)}\n`,
      'tsconfig.json': `${JSON.stringify({ extends: 'assemblyscript/std/assembly.json', include: ['*.ts'] }, null, 2)}\n`,
    }
  },
  manifest: () => ({
    kind: 'wasm',
    entry: 'plugin.wasm',
    limits: { memoryMb: 64 },
    build: {
      // --maximumMemory 1024 pages = 64 MiB; --use abort= : no `env.abort` import (the ABI imports only module "polyplug").
      command: ['npx', '--yes', '--prefer-offline', `--package=${ASSEMBLYSCRIPT}`, '--', 'asc', 'index.ts', '-O2', '--runtime', 'incremental', '--maximumMemory', '1024', '--use', 'abort=', '-o', 'plugin.wasm'],
      inputs: ['index.ts', 'polyplug.ts'],
      outputs: ['plugin.wasm'],
    },
  }),
  edit: 'Add an `if (method.is("name")) return ...` line to `polyplug_call` in index.ts; polyplug.ts (docs/wasm-abi.md) is the ABI and its helpers (okText, okNumber, fail, callHost).',
}

/** Languages by the name `--lang` takes, most used first. */
export const LANGUAGES: Record<string, Language> = {
  js: javascript,
  ts: typescript,
  python,
  c,
  rust,
  go,
  'c-native': cNative,
  'rust-native': rustNative,
  'c-wasm': cWasm,
  assemblyscript,
}

/** `--lang c --kind native` means c-native, and so on. */
export function languageFor(lang: string, kind: string | undefined): string {
  if (kind && kind !== LANGUAGES[lang]?.kind && LANGUAGES[`${lang}-${kind}`]) return `${lang}-${kind}`
  return lang
}
