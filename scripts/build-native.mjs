// Builds the C parts from source after `tsc`: the shm addon (Node-API, so no node-gyp: see
// scripts/shm-addon.mjs) and the C example sidecars. Needs a C compiler (gcc/cc) and Node's headers.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildAddon, compile } from './shm-addon.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

buildAddon()
const cPlugin = join(root, 'examples/shm-c/plugin.c')
if (existsSync(cPlugin)) compile(join(root, 'examples/shm-c/build/plugin'), [cPlugin], [])
compile(join(root, 'dist/bench/shm-raw-echo'), [join(root, 'bench/c/shm-raw-echo.c')], [])
compile(join(root, 'dist/bench/spin-pingpong'), [join(root, 'bench/c/spin-pingpong.c')], [])
