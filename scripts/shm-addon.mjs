// The shm addon (src/native/polyplug_shm.c): Node-API, so one build serves every Node version, with
// no node-gyp and nothing downloaded. `npm run build` builds it (scripts/build-native.mjs); the
// published package carries the build for the platform it was packed on, and has no install script
// (npm would warn about it in every application, and nothing needs to run at install time): the
// addon is loaded at run time, on first use of `shm`, and where it does not load the error names
// this script. Run directly (`node node_modules/polyplug/scripts/shm-addon.mjs`), it builds the
// addon for this machine unless the one in place already loads; `--force` builds it anyway.
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

/** Why the addon in place does not load in this Node (undefined when it loads). */
function loadError() {
  try {
    createRequire(import.meta.url)(addonPath)
    return undefined
  } catch (error) {
    return error.message.split('\n')[0]
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const why = process.argv.includes('--force') ? 'rebuilding (--force)' : loadError()
  if (why === undefined) {
    process.stdout.write(`polyplug: the shm addon loads (${addonPath}); nothing to build\n`)
  } else {
    try {
      buildAddon()
      const still = loadError()
      if (still) throw new Error(`the build does not load either: ${still}`)
      process.stdout.write(`polyplug: built the shm addon (${addonPath})\n`)
    } catch (error) {
      process.stderr.write(
        `polyplug: the shm addon could not be built here (${why}; ${error.message.split('\n')[0]}). ` +
          `Every transport but "shm" between processes works without it. Install a C compiler (CC, default gcc) and Node's headers, then run this again.\n`,
      )
      process.exitCode = 1
    }
  }
}
