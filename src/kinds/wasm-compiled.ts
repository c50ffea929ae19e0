/**
 * A `.wasm` file read and compiled once per thread while plugins use it: further plugins of the
 * same file (another manifest, a restart) take the compiled module after one `stat`, instead of
 * reading and compiling the file again. The entry is keyed by the file's path and checked against
 * its size, inode, modification and change times, so a file changed on disk is read again; it is
 * held weakly, so a module no plugin uses any more can be collected.
 */
import { readFile, stat } from 'node:fs/promises'
import type { BigIntStats } from 'node:fs'
import { declaredMemory, type DeclaredMemory } from './wasm-memory.js'

export interface CompiledWasm {
  readonly bytes: Uint8Array
  readonly module: WebAssembly.Module
  /** `WebAssembly.Module.imports(module)`, listed once. */
  readonly imports: readonly WebAssembly.ModuleImportDescriptor[]
  /** The module's memory declarations, read from `bytes` on first use (it throws for unreadable bytes). */
  declared(): DeclaredMemory
}

interface Entry extends CompiledWasm {
  readonly version: string
}

const cache = new Map<string, WeakRef<Entry>>()
const forget = new FinalizationRegistry<string>((path) => {
  if (cache.get(path)?.deref() === undefined) cache.delete(path)
})

/** What tells one content of a file from another without reading it. */
function versionOf(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
}

/** The compiled module of the file at `path` (read and compiled now unless an unchanged one is held). Throws what reading or compiling throws. */
export async function compiledWasm(path: string): Promise<CompiledWasm> {
  const version = versionOf(await stat(path, { bigint: true }))
  const held = cache.get(path)?.deref()
  if (held?.version === version) return held
  // A change between the stat and the read leaves an entry whose version is already stale: the
  // next plugin reads the file again.
  const bytes = new Uint8Array(await readFile(path))
  const module = await WebAssembly.compile(bytes)
  let declared: DeclaredMemory | undefined
  const entry: Entry = { version, bytes, module, imports: WebAssembly.Module.imports(module), declared: () => (declared ??= declaredMemory(bytes)) }
  cache.set(path, new WeakRef(entry))
  forget.register(entry, path)
  return entry
}
