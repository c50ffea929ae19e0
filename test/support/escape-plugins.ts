/**
 * The escape matrix's plugins (test/escape-matrix.test.ts, test/host-death.test.ts): one probe per
 * process kind, written into a fresh folder with the grants a test asks for. The probes live in
 * test/fixtures/escape (the C ones are built by the Makefile).
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fixturesDir, root } from './paths.js'

const probes = `${fixturesDir}/escape`

export interface Permissions {
  fs?: { path: string; access: 'read' | 'readwrite' }[]
  env?: string[]
  process?: boolean
  network?: { connect?: string[]; listen?: boolean }
  host?: string[]
}

/** One process plugin kind, over the transport its row uses. */
export interface ProbeKind {
  /** The column title in docs/confinement.md. */
  readonly title: string
  readonly slug: string
  readonly manifest: Record<string, unknown>
  /** Copies the probe into the plugin folder. */
  readonly files: (dir: string) => void
}

const copy = (name: string, mode?: number) => (dir: string) => {
  copyFileSync(join(probes, name), join(dir, name))
  if (mode) chmodSync(join(dir, name), mode)
}

export const probeKinds: readonly ProbeKind[] = [
  {
    title: 'exec Python (tcp)',
    slug: 'python',
    // The interpreter itself, not a launcher script on PATH (a pyenv shim runs other programs, so
    // the sandbox of a script-launched plugin lets it run programs: docs/confinement.md).
    manifest: { kind: 'exec', entry: 'probe.py', transport: 'tcp', sidecar: { command: ['/usr/bin/python3', 'probe.py'] } },
    files: (dir) => writeFileSync(join(dir, 'probe.py'), `KIT = ${JSON.stringify(join(root, 'kits/python'))}\n${readFileSync(join(probes, 'probe.py'), 'utf8')}`),
  },
  {
    title: 'exec C (unix)',
    slug: 'c',
    manifest: { kind: 'exec', entry: 'probe-sidecar', transport: 'unix', sidecar: { command: ['./probe-sidecar'] } },
    files: copy('probe-sidecar', 0o755),
  },
  { title: 'js, Node carrier (stdio)', slug: 'js', manifest: { kind: 'js', entry: 'probe.js', transport: 'stdio' }, files: copy('probe.js') },
  { title: 'native, Node carrier (fifo)', slug: 'native', manifest: { kind: 'native', entry: 'libprobe.so', transport: 'fifo' }, files: copy('libprobe.so') },
  { title: 'js, Node carrier (shm)', slug: 'shm', manifest: { kind: 'js', entry: 'probe.js', transport: 'shm' }, files: copy('probe.js') },
]

/** Writes the plugin `${kind.slug}-${suffix}` into `parent` with these permissions; returns its id. */
export function writeProbePlugin(parent: string, kind: ProbeKind, suffix: string, permissions: Permissions): string {
  const id = `escape-${kind.slug}-${suffix}`
  const dir = join(parent, id)
  mkdirSync(dir, { recursive: true })
  kind.files(dir)
  writeFileSync(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', placement: 'process', ...kind.manifest, permissions }, null, 2))
  return id
}
