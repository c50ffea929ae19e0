/** `polyplug init` scaffolds of compiled sidecars (C, Rust, Go) pass `polyplug check` at once (test/support/init-matrix.ts). */
import { scaffoldSuite } from './support/init-matrix.js'

scaffoldSuite(['c', 'rust', 'go'])
