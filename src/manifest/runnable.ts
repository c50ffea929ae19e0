/**
 * Whether a plugin's program can run as its manifest says, checked on disk without running it:
 * the entry exists and, for a sidecar (kind exec in a process), the program the host would spawn —
 * `sidecar.command[0]`, or the entry itself when there is no `sidecar.command` — is on PATH or is
 * an executable file, and a script among them has its `#!` line. Each problem names its fix.
 * Used by `polyplug validate`.
 */
import { constants } from 'node:fs'
import { access, open, stat } from 'node:fs/promises'
import { delimiter, extname, join, relative, resolve } from 'node:path'
import { spawnsEntry } from '../registry/placements.js'
import type { LoadedManifest } from './load.js'
import type { ManifestProblem } from './validate.js'

/** Interpreters by a script's extension, for the fix's example. */
const INTERPRETERS: Record<string, string> = { '.py': 'python3', '.js': 'node', '.mjs': 'node', '.sh': 'sh', '.rb': 'ruby', '.pl': 'perl', '.php': 'php' }

const executable = (path: string) => access(path, constants.X_OK).then(() => true, () => false)

/** The first two bytes: `#!` for a script the kernel runs through its interpreter. */
async function head(path: string): Promise<string> {
  const file = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(4)
    const { bytesRead } = await file.read(buffer, 0, 4, 0)
    return buffer.subarray(0, bytesRead).toString('latin1')
  } finally {
    await file.close()
  }
}

/** Binary formats the kernel runs itself (ELF, and Mach-O for completeness). */
const isBinary = (magic: string) => magic === '\x7fELF' || ['\xcf\xfa\xed\xfe', '\xce\xfa\xed\xfe', '\xca\xfe\xba\xbe'].includes(magic)

async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) if (await executable(join(dir, name))) return true
  return false
}

/** Why a missing file is missing: an output of the declared build not built yet, or a wrong path. */
function missingFix(loaded: LoadedManifest, path: string): string {
  const build = loaded.manifest.build
  const outputs = (build?.outputs ?? (build ? [loaded.manifest.entry] : [])).map((o) => resolve(loaded.dir, o))
  if (build && outputs.includes(path)) return `it is an output of the declared build, not built yet: \`polyplug check ${loaded.dir}\` builds it (${build.command.join(' ')})`
  return "check the path: it is relative to the plugin's folder"
}

export async function runnableProblems(loaded: LoadedManifest): Promise<ManifestProblem[]> {
  const { manifest, dir, entryPath } = loaded
  const entryStat = await stat(entryPath).catch(() => undefined)
  if (!entryStat?.isFile()) {
    const found = `${JSON.stringify(manifest.entry)} (${entryPath} ${entryStat ? 'is not a file' : 'does not exist'})`
    return [{ path: '/entry', expected: 'an existing file', found: entryStat ? found : `${found}: ${missingFix(loaded, entryPath)}` }]
  }
  if (!spawnsEntry(manifest)) return []
  const command = manifest.sidecar?.command
  if (!command) {
    // The host executes the entry itself.
    const name = relative(dir, entryPath)
    const interpreter = INTERPRETERS[extname(entryPath)] ?? 'INTERPRETER'
    const fix = `chmod +x ${name} and start it with a line such as #!/usr/bin/env ${interpreter}, or name its interpreter: "sidecar": {"command": ["${interpreter}", "${name}"]}`
    const expected = 'a program the OS can run (there is no sidecar.command, so the host executes entry itself)'
    const magic = await head(entryPath)
    if (!(await executable(entryPath))) return [{ path: '/entry', expected, found: `${name} without the exec bit: ${fix}` }]
    if (!isBinary(magic) && !magic.startsWith('#!')) return [{ path: '/entry', expected, found: `${name}, which is neither a compiled program nor a script with a #! line: ${fix}` }]
    return []
  }
  const program = command[0]!
  if (!program.includes('/')) {
    if (await onPath(program)) return []
    return [{ path: '/sidecar/command/0', expected: 'a program on PATH', found: `${JSON.stringify(program)}, which is not on PATH: install it, or write its full path in sidecar.command` }]
  }
  const path = resolve(dir, program)
  const info = await stat(path).catch(() => undefined)
  if (!info?.isFile()) {
    const found = `${JSON.stringify(program)} (${path} ${info ? 'is not a file' : 'does not exist'})`
    return [{ path: '/sidecar/command/0', expected: 'an existing program', found: info ? found : `${found}: ${missingFix(loaded, path)}` }]
  }
  const name = relative(dir, path)
  if (!(await executable(path))) {
    return [{ path: '/sidecar/command/0', expected: 'an executable file', found: `${name} without the exec bit: chmod +x ${name}${isBinary(await head(path)) ? '' : ' (a script also needs a #! line)'}` }]
  }
  const magic = await head(path)
  if (!isBinary(magic) && !magic.startsWith('#!')) {
    const interpreter = INTERPRETERS[extname(path)] ?? 'INTERPRETER'
    return [{ path: '/sidecar/command/0', expected: 'a compiled program or a script with a #! line', found: `${name}, which has neither: start it with a line such as #!/usr/bin/env ${interpreter}, or put its interpreter first: ["${interpreter}", "${program}", ...]` }]
  }
  return []
}
