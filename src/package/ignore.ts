/**
 * What `polyplug pack` leaves out of a plugin folder: Python byte code, compiler outputs that a
 * package should not carry (object files, Rust's `target/`), and whatever the folder's
 * `.polyplugignore` names (gitignore syntax, read by the `ignore` package). The manifest's entry
 * always goes in, even inside an ignored folder (e.g. a sidecar built into `target/release/`).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ignore from 'ignore'

export const IGNORE_FILE = '.polyplugignore'

/** Always left out: byte code and build intermediates that no plugin runs. */
export const DEFAULT_IGNORES = ['__pycache__/', '*.pyc', '*.o', '*.obj', 'target/', '.DS_Store']

/** Filters relative POSIX paths (from listFiles) down to what a package carries. */
export async function packable(root: string, paths: string[], entry: string): Promise<string[]> {
  const own = await readFile(join(root, IGNORE_FILE), 'utf8').catch(() => '')
  const rules = ignore().add(DEFAULT_IGNORES).add(own)
  return paths.filter((path) => path === entry || !rules.ignores(path))
}
