/**
 * Memory limits for `wasm` plugins. The JS API does not expose a module's declared memory limits,
 * so the import (2) and memory (5) sections of the binary are read directly (a few dozen bytes of
 * LEB128). A module that defines its own memory must declare a maximum within the plugin's limit;
 * a module that imports its memory gets one from the host with that maximum. Worker
 * `resourceLimits` cover only the JS heap, never WASM memory, so this is the cap that holds.
 */
import { PolyplugError } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'

/** Applied when the manifest sets no `limits.memoryMb`. */
export const DEFAULT_WASM_MEMORY_MB = 256
const PAGES_PER_MB = 16 // 64 KiB pages

export interface MemoryLimits {
  min: number
  max: number | undefined
}

export interface DeclaredMemory {
  /** Memory the module defines itself (exported or not). */
  own?: MemoryLimits
  /** Memory the module imports, with its import name. */
  imported?: MemoryLimits & { module: string; name: string }
}

export class Reader {
  offset = 0
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.offset >= this.bytes.length) throw new Error('unexpected end of module')
    return this.bytes[this.offset++]!
  }
  u32(): number {
    let result = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte()
      result |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) return result >>> 0
    }
    throw new Error('bad LEB128')
  }
  name(): string {
    const n = this.u32()
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + n))
    this.offset += n
    return text
  }
  limits(): MemoryLimits {
    const flags = this.byte()
    const min = this.u32()
    return { min, max: flags & 1 ? this.u32() : undefined }
  }
}

/** Reads the memory declarations of a WebAssembly binary (first memory only, as in MVP modules). */
export function declaredMemory(bytes: Uint8Array): DeclaredMemory {
  const r = new Reader(bytes)
  r.offset = 8 // magic + version
  const found: DeclaredMemory = {}
  while (r.offset < bytes.length) {
    const id = r.byte()
    const size = r.u32()
    const end = r.offset + size
    if (id === 2) {
      for (let count = r.u32(); count > 0; count--) {
        const module = r.name()
        const name = r.name()
        const kind = r.byte()
        if (kind === 0) r.u32() // function: type index
        else if (kind === 1) {
          r.byte() // table: reftype, then limits
          r.limits()
        }
        else if (kind === 2) found.imported ??= { module, name, ...r.limits() }
        else if (kind === 3) r.offset += 2 // global: valtype + mutability
        else throw new Error(`unknown import kind ${kind}`)
      }
    } else if (id === 5) {
      if (r.u32() > 0) found.own = r.limits()
    }
    r.offset = end
  }
  return found
}

/**
 * Checks a module against the limit; returns the Memory to import when the module imports one.
 * Throws PLUGIN_MEMORY_LIMIT for a module that could grow past the limit.
 */
export function memoryForModule(bytes: Uint8Array, limitMb: number, plugin: string): WebAssembly.Memory | undefined {
  return memoryForDeclared(() => declaredMemory(bytes), limitMb, plugin)
}

/** memoryForModule over declarations read elsewhere (`declare` throws for unreadable bytes, as declaredMemory does). */
export function memoryForDeclared(declare: () => DeclaredMemory, limitMb: number, plugin: string): WebAssembly.Memory | undefined {
  const limitPages = limitMb * PAGES_PER_MB
  let declared: DeclaredMemory
  try {
    declared = declare()
  } catch (cause) {
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `not a readable WebAssembly module: ${(cause as Error).message}`, { plugin, cause })
  }
  const refuse = (what: string) =>
    new PolyplugError(PluginErrorCodes.PLUGIN_MEMORY_LIMIT, `${what}; the plugin's limit is ${limitMb} MiB (limits.memoryMb)`, {
      plugin,
      data: { limitMb, declared },
    })
  if (declared.own) {
    const { min, max } = declared.own
    if (max === undefined) throw refuse('the module declares no memory maximum (link C with -Wl,--max-memory=N)')
    if (max > limitPages || min > limitPages) throw refuse(`the module declares up to ${max / PAGES_PER_MB} MiB of memory`)
  }
  if (declared.imported) {
    const { min, max } = declared.imported
    if (min > limitPages) throw refuse(`the module needs at least ${min / PAGES_PER_MB} MiB of memory`)
    return new WebAssembly.Memory({ initial: min, maximum: Math.min(max ?? limitPages, limitPages) })
  }
  return undefined
}

function leb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

/**
 * The module with its own memory's maximum set to `maxPages` (kept when it already declares a
 * smaller one): the engine then refuses `memory.grow` past the cap, as for a module that declared
 * it. For modules that declare no maximum (every Extism PDK's output). Throws for memory64 or
 * multi-memory modules, which no PDK emits.
 */
export function withMemoryMaximum(bytes: Uint8Array, maxPages: number): Uint8Array {
  const r = new Reader(bytes)
  r.offset = 8
  while (r.offset < bytes.length) {
    const start = r.offset
    const id = r.byte()
    const size = r.u32()
    const end = r.offset + size
    if (id === 5) {
      if (r.u32() !== 1) throw new Error('only modules with one memory are supported')
      const flags = r.byte()
      if (flags & 4) throw new Error('64-bit memories are not supported')
      const min = r.u32()
      const max = flags & 1 ? Math.min(r.u32(), maxPages) : maxPages
      if (r.offset !== end) throw new Error('unexpected memory section layout')
      const body = [1, flags | 1, ...leb(min), ...leb(max)]
      const out = new Uint8Array(start + 1 + leb(body.length).length + body.length + (bytes.length - end))
      out.set(bytes.subarray(0, start))
      out.set([5, ...leb(body.length), ...body], start)
      out.set(bytes.subarray(end), start + 1 + leb(body.length).length + body.length)
      return out
    }
    r.offset = end
  }
  return bytes
}
