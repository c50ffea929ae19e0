/**
 * WASI (preview1, `node:wasi`) for a `wasm` plugin that imports `wasi_snapshot_preview1`, with
 * only what the manifest grants: preopened directories from `permissions.fs` (seen by the guest
 * at their absolute host paths), environment variables named in `permissions.env`, no arguments
 * beyond the plugin id, an empty stdin, and stdout/stderr routed line by line to the host log.
 *
 * Honest limits: node:wasi does not enforce `access: "read"` (a preopen is readable and writable),
 * and Node documents node:wasi as not a complete security boundary; the guest still reaches only
 * what is preopened, since WASI offers no other way to name a file.
 */
import { isAbsolute, resolve } from 'node:path'
import type { WASI } from 'node:wasi'
import type { Manifest } from '../manifest/schema.js'

export const WASI_MODULE = 'wasi_snapshot_preview1'

// Loaded on first use: importing node:wasi prints an ExperimentalWarning, which hosts without
// WASI plugins should never see.
let WasiClass: typeof WASI | undefined

export async function prepareWasi(): Promise<void> {
  if (WasiClass) return
  // Node prints "WASI is an experimental feature" when the module loads; polyplug documents what
  // node:wasi does and does not isolate (docs/wasm-abi.md), so that one warning is not repeated
  // to every host user. Every other warning passes through.
  const emit = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message
    if (!text.startsWith('WASI is an experimental feature')) (emit as (...args: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    WasiClass = (await import('node:wasi')).WASI
  } finally {
    process.emitWarning = emit
  }
}

export interface WasiSetup {
  readonly wasi: WASI
  /** The import object for `wasi_snapshot_preview1`, with stdio and exit redirected. */
  readonly imports: Record<string, unknown>
}

export interface WasiHooks {
  /** The guest's current memory (it may be replaced when it grows). */
  memory(): WebAssembly.Memory
  /** One complete line the guest wrote to stdout (`stream` 1) or stderr (2). */
  line(stream: 1 | 2, text: string): void
  /** The guest called proc_exit. */
  exit(code: number): never
}

/** The directories a plugin may open, host path by guest path (the same absolute path). */
export function grantedPreopens(manifest: Manifest, dir: string): Record<string, string> {
  const preopens: Record<string, string> = {}
  for (const grant of manifest.permissions?.fs ?? []) {
    const path = isAbsolute(grant.path) ? grant.path : resolve(dir, grant.path)
    preopens[path] = path
  }
  return preopens
}

export function grantedEnv(manifest: Manifest): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of manifest.permissions?.env ?? []) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

type WasiFunction = (...args: number[]) => number

/**
 * One node:wasi function behind a JavaScript function of the same arity. Handed to an instance as
 * they are, node:wasi's functions (bound C++ functions with a fast-call signature) make V8 compile
 * an import wrapper for each of them in every `new WebAssembly.Instance`, uncached: ≈1.7 ms per
 * instance here, against ≈0.05 ms with JavaScript imports (docs/performance.md, round eight). A
 * call through this function costs about what the direct one does. The arity is exact because
 * node:wasi answers EINVAL to a call with any other argument count.
 */
export function plainWasiFunction(fn: WasiFunction): WasiFunction {
  switch (fn.length) {
    case 0: return () => fn()
    case 1: return (a) => fn(a)
    case 2: return (a, b) => fn(a, b)
    case 3: return (a, b, c) => fn(a, b, c)
    case 4: return (a, b, c, d) => fn(a, b, c, d)
    case 5: return (a, b, c, d, e) => fn(a, b, c, d, e)
    case 6: return (a, b, c, d, e, f) => fn(a, b, c, d, e, f)
    case 7: return (a, b, c, d, e, f, g) => fn(a, b, c, d, e, f, g)
    case 8: return (a, b, c, d, e, f, g, h) => fn(a, b, c, d, e, f, g, h)
    case 9: return (a, b, c, d, e, f, g, h, i) => fn(a, b, c, d, e, f, g, h, i)
    default: return (...args) => fn(...args)
  }
}

export function createWasi(id: string, manifest: Manifest, dir: string, hooks: WasiHooks): WasiSetup {
  if (!WasiClass) throw new Error('prepareWasi() must run before createWasi()')
  const wasi = new WasiClass({
    version: 'preview1',
    args: [id],
    env: grantedEnv(manifest),
    preopens: grantedPreopens(manifest, dir),
    returnOnExit: true,
  })
  const base = (wasi.getImportObject() as Record<string, unknown>)[WASI_MODULE] as Record<string, WasiFunction>
  const plain: Record<string, WasiFunction> = {}
  for (const name of Object.keys(base)) plain[name] = plainWasiFunction(base[name]!)
  const pending: Record<1 | 2, string> = { 1: '', 2: '' }
  const decoder = new TextDecoder()
  const EBADF = 8
  return {
    wasi,
    imports: {
      ...plain,
      // stdout/stderr become log lines; the host process's own stdio is never handed to the guest.
      fd_write(fd: number, iovs: number, count: number, written: number): number {
        if (fd !== 1 && fd !== 2) return base.fd_write!(fd, iovs, count, written)
        const view = new DataView(hooks.memory().buffer)
        let total = 0
        for (let i = 0; i < count; i++) {
          const ptr = view.getUint32(iovs + i * 8, true)
          const len = view.getUint32(iovs + i * 8 + 4, true)
          pending[fd] += decoder.decode(new Uint8Array(view.buffer, ptr, len))
          total += len
        }
        const lines = pending[fd].split('\n')
        pending[fd] = lines.pop()!
        for (const line of lines) hooks.line(fd, line)
        view.setUint32(written, total, true)
        return 0
      },
      fd_read(fd: number, iovs: number, count: number, read: number): number {
        if (fd === 0) {
          new DataView(hooks.memory().buffer).setUint32(read, 0, true) // stdin is always empty
          return 0
        }
        if (fd === 1 || fd === 2) return EBADF
        return base.fd_read!(fd, iovs, count, read)
      },
      proc_exit(code: number): never {
        return hooks.exit(code)
      },
    },
  }
}
