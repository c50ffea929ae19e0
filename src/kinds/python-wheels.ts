/**
 * Vendored wheels of a `python` plugin: every `*.whl` in the plugin folder or its `wheels/`
 * folder is unpacked, offline, into the plugin's own site-packages in Pyodide. Only pure-Python
 * wheels (`none-any`) or wheels built for Pyodide (`pyodide_*`/`emscripten_*`) can run there; any
 * other gets an error naming the package and the sidecar placement that can run it.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { Runtime } from './pyodide-runtime.js'

async function wheelsIn(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((name) => name.endsWith('.whl')).map((name) => join(folder, name))
  } catch {
    return []
  }
}

/** `name-version(-build)?-python-abi-platform.whl` → its package name and platform tag. */
export function wheelTags(file: string): { name: string; platform: string } {
  const parts = file.split('/').at(-1)!.slice(0, -'.whl'.length).split('-')
  return { name: parts[0] ?? file, platform: parts.at(-1) ?? '' }
}

export async function installWheels(runtime: Runtime, id: string, dir: string, site: string): Promise<void> {
  const wheels = [...(await wheelsIn(dir)), ...(await wheelsIn(join(dir, 'wheels')))]
  if (wheels.length === 0) return
  const FS = runtime.py.FS
  FS.mkdirTree(site)
  for (const wheel of wheels) {
    const { name, platform } = wheelTags(wheel)
    if (!(platform === 'any' || /^(pyodide|emscripten)_/.test(platform))) {
      throw new PolyplugError(
        ErrorCodes.PLUGIN_UNAVAILABLE,
        `package "${name}" is vendored as a ${platform} wheel (${wheel}), which Pyodide cannot run in-process: vendor a pure-Python wheel, or place the plugin in a sidecar (kind "exec", placement "process")`,
        { plugin: id, data: { package: name, wheel } },
      )
    }
    const staged = `${site}/.${name}.whl`
    FS.writeFile(staged, await readFile(wheel))
    runtime.py.runPython(`import zipfile, os\nwith zipfile.ZipFile(${JSON.stringify(staged)}) as z: z.extractall(${JSON.stringify(site)})\nos.remove(${JSON.stringify(staged)})`)
  }
  runtime.py.runPython(`import sys\nif ${JSON.stringify(site)} not in sys.path: sys.path.insert(0, ${JSON.stringify(site)})`)
}
