// Builds the C parts from source after `tsc`: the shm addon (Node-API, so no node-gyp and no
// install script) and the C example sidecars. Needs a C compiler (gcc/cc) and Node's headers.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cc = process.env.CC ?? 'gcc'

function nodeInclude() {
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')))
  if (!found) throw new Error(`node_api.h not found in ${candidates.join(', ')}: install Node's headers (Debian: libnode-dev or nodejs headers)`)
  return found
}

function build(out, sources, flags) {
  mkdirSync(dirname(out), { recursive: true })
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-std=gnu11', ...flags, '-o', out, ...sources], { stdio: 'inherit' })
}

build(join(root, 'dist/src/transports/shm/polyplug_shm.node'), [join(root, 'src/native/polyplug_shm.c')], [
  '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=polyplug_shm', `-I${nodeInclude()}`,
])
const cPlugin = join(root, 'examples/shm-c/plugin.c')
if (existsSync(cPlugin)) build(join(root, 'examples/shm-c/build/plugin'), [cPlugin], [])
build(join(root, 'dist/bench/shm-raw-echo'), [join(root, 'bench/c/shm-raw-echo.c')], [])
build(join(root, 'dist/bench/spin-pingpong'), [join(root, 'bench/c/spin-pingpong.c')], [])
