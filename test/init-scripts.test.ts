/** `polyplug init` scaffolds of scripted languages (JavaScript, TypeScript, Python) pass `polyplug check` at once (test/support/init-matrix.ts). */
import { scaffoldSuite } from './support/init-matrix.js'

scaffoldSuite(['js', 'ts', 'python'])
