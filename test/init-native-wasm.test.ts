/** `polyplug init` scaffolds of native libraries and WebAssembly (C, Rust, C to wasm, AssemblyScript) pass `polyplug check` at once (test/support/init-matrix.ts). */
import { scaffoldSuite } from './support/init-matrix.js'

scaffoldSuite(['c-native', 'rust-native', 'c-wasm', 'assemblyscript'])
