// `npm run build`: TypeScript first, then every native piece whose toolchain or library this machine
// has. A piece whose requirement is missing is skipped, and the skip is printed once with its reason
// and the exact install command; dist/build-skips.json records it for the demo. POLYPLUG_REQUIRE_ALL=1
// (set by .ci/run) turns any skip into a failed build, so CI can never pass by skipping.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (command, args, options = {}) => execFileSync(command, args, { cwd: root, stdio: 'inherit', ...options })

run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.client.json']) // the dashboard's browser script
run(process.execPath, ['scripts/manifest-validator.mjs']) // the manifest schema, compiled once here instead of at each start
run(process.execPath, ['scripts/bundle-carriers.mjs']) // each carrier as one file (esbuild), so a worker or process starts by reading one
// One table of optional system tools, shared with the tests (test/support/requires.ts) and the demo.
const { tools, requireAll } = await import(join(root, 'dist/test/support/requires.js'))

// Without cargo and serde_json, make builds everything but the Rust examples (their own piece below);
// without jansson, everything but the escape matrix's sidecar probe (on the C sidecar kit).
const rustKits = tools.cargo.present() && tools.serdeJson.present()
const jansson = tools.jansson.present()
const pieces = [
  {
    name: 'the shm addon and the C shm examples (scripts/build-native.mjs)',
    needs: [tools.gcc, tools.nodeHeaders],
    outputs: ['dist/src/transports/shm/polyplug_shm.node', 'examples/shm-c/build/plugin'],
    build: () => run(process.execPath, ['scripts/build-native.mjs']),
  },
  {
    name: 'native C plugins, the host ABI shim and the test fixtures (make native)',
    needs: [tools.gcc],
    outputs: ['dist/src/kinds/libpolyplug_host.so', ...['inline', 'worker', 'process'].map((p) => `examples/native-c-${p}/libconformance.so`)],
    build: () => run('make', ['-s', 'native', ...(rustKits ? [] : ['RUST_EXAMPLES=']), ...(jansson ? [] : ['ESCAPE_SIDECAR='])]),
  },
  {
    name: 'native Rust plugins (kits/rust on serde_json, make native)',
    needs: [tools.gcc, tools.cargo, tools.serdeJson],
    outputs: ['inline', 'worker', 'process'].map((p) => `examples/native-rust-${p}/libconformance.so`),
    build: () => {}, // built by the make run above when cargo and serde_json are present
  },
  {
    name: "the escape matrix's sidecar probe (on the C sidecar kit, make native)",
    needs: [tools.gcc, tools.jansson],
    outputs: ['test/fixtures/escape/probe-sidecar'],
    build: () => {}, // built by the make run above when jansson is present
  },
  {
    name: 'the C sidecar kit (kits/c-sidecar on jansson)',
    needs: [tools.gcc, tools.jansson],
    outputs: ['examples/shared/bin/c-conformance'],
    build: () => run('make', ['-s', '-C', 'kits/c-sidecar', '../../examples/shared/bin/c-conformance']),
  },
  {
    name: 'the C sidecar kit over mqtt (kits/c-sidecar with libmosquitto)',
    needs: [tools.gcc, tools.jansson, tools.libmosquitto],
    outputs: ['examples/shared/bin/c-conformance-mqtt'],
    build: () => run('make', ['-s', '-C', 'kits/c-sidecar', '../../examples/shared/bin/c-conformance-mqtt']),
  },
  {
    name: 'the Rust sidecar kit (kits/rust-sidecar on serde_json)',
    needs: [tools.cargo, tools.serdeJson],
    outputs: ['kits/rust-sidecar/target/release/rust-conformance'],
    build: () =>
      // run in the kit's folder: cargo reads .cargo/config.toml (Debian's crate directory) from where it runs
      run('cargo', ['build', '--release', '--offline', '--quiet'], { cwd: join(root, 'kits/rust-sidecar') }),
  },
]

const skipped = []
for (const piece of pieces) {
  const missing = piece.needs.filter((tool) => !tool.present())
  if (missing.length === 0) piece.build()
  else skipped.push({ piece: piece.name, outputs: piece.outputs, missing: missing.map(({ name, install }) => ({ name, install })) })
}
mkdirSync(join(root, 'dist'), { recursive: true })
writeFileSync(join(root, 'dist/build-skips.json'), `${JSON.stringify(skipped, null, 2)}\n`)

if (skipped.length > 0) {
  const lines = skipped.map((s) => `  skipped ${s.piece}: needs ${s.missing.map((m) => `${m.name} (${m.install})`).join(', ')}`)
  process.stderr.write(`polyplug build: ${skipped.length} optional piece(s) skipped:\n${lines.join('\n')}\n`)
  if (requireAll) {
    process.stderr.write('polyplug build: POLYPLUG_REQUIRE_ALL=1 forbids skipping: install the above and build again\n')
    process.exit(1)
  }
}
