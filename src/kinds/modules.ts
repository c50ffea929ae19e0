/** The kinds polyplug ships, in the order the manifest schema lists them. */
import type { KindModule } from '../registry/types.js'
import { execModule } from './exec-module.js'
import { jsModule } from './js-module.js'
import { nativeModule } from './native-module.js'
import { pythonModule } from './python-module.js'
import { wasmModule } from './wasm-module.js'

export const builtinKinds: readonly KindModule[] = [jsModule, wasmModule, nativeModule, execModule, pythonModule]
