// The shm addon (src/native/polyplug_shm.c): Node-API, so one build serves every Node version, with
// no node-gyp and nothing downloaded. `npm run build` builds it (scripts/build-native.mjs); the
// published package carries the build for the platform it was packed on. Run as the package's
// `install` script it builds the addon only where the shipped one does not load and a C compiler
// is present; elsewhere it says once that the shm transport is unavailable, and the install goes on.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const addonPath = join(root, 'dist/src/transports/shm/polyplug_shm.node')

export function nodeInclude() {
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')))
  if (!found) throw new Error(`node_api.h not found in ${candidates.join(', ')}: install Node's headers (Debian: apt-get install -y libnode-dev)`)
  return found
}

export function compile(out, sources, flags, cc = process.env.CC || 'gcc') {
  mkdirSync(dirname(out), { recursive: true })
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-std=gnu11', ...flags, '-o', out, ...sources], { stdio: 'inherit' })
}

export function buildAddon() {
  compile(addonPath, [join(root, 'src/native/polyplug_shm.c')], ['-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=polyplug_shm', `-I${nodeInclude()}`])
}

function loads() {
  try {
    createRequire(import.meta.url)(addonPath)
    return true
  } catch {
    return false
  }
}

// As the install script: a checkout builds everything in `prepare` instead.
if (process.argv[1] === fileURLToPath(import.meta.url) && !existsSync(join(root, 'tsconfig.json')) && !loads()) {
  try {
    buildAddon()
  } catch (error) {
    process.stderr.write(`polyplug: the shm addon could not be built here (${error.message.split('\n')[0]}); every transport but "shm" between processes works. Install a C compiler and Node's headers, then run \`npm rebuild polyplug\`.\n`)
  }
}
