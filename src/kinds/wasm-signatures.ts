/**
 * The signatures of a module's imported and exported functions, read from the binary's type (1),
 * import (2), function (3) and export (7) sections: Node 20's JS API reports names and kinds but
 * not types (the type-reflection proposal is not shipped), and the Extism contract is defined by
 * them (which exports are callable, what a host function takes and returns).
 */
import { Reader } from './wasm-memory.js'

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | 'ref'

export interface Signature {
  params: ValueType[]
  results: ValueType[]
}

export interface FunctionSignatures {
  imports: Array<Signature & { module: string; name: string }>
  exports: Array<Signature & { name: string }>
}

const VALUE_TYPES: Record<number, ValueType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' }

function valueType(r: Reader): ValueType {
  const b = r.byte()
  const known = VALUE_TYPES[b]
  if (known) return known
  if (b === 0x63 || b === 0x64) {
    r.u32() // a typed reference's heap type (function-references proposal)
    return 'ref'
  }
  throw new Error(`unknown value type 0x${b.toString(16)}`)
}

function vector<T>(r: Reader, item: () => T): T[] {
  const out: T[] = []
  for (let n = r.u32(); n > 0; n--) out.push(item())
  return out
}

/** Throws on modules using the GC proposal's recursive type groups (no PDK emits them). */
export function functionSignatures(bytes: Uint8Array): FunctionSignatures {
  const r = new Reader(bytes)
  r.offset = 8
  const types: Signature[] = []
  const functions: number[] = [] // type index per function index (imports first)
  const found: FunctionSignatures = { imports: [], exports: [] }
  while (r.offset < bytes.length) {
    const id = r.byte()
    const size = r.u32()
    const end = r.offset + size
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const form = r.byte()
        if (form !== 0x60) throw new Error(`unsupported type form 0x${form.toString(16)}`)
        types.push({ params: vector(r, () => valueType(r)), results: vector(r, () => valueType(r)) })
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name()
        const name = r.name()
        const kind = r.byte()
        if (kind === 0) {
          const type = r.u32()
          functions.push(type)
          found.imports.push({ module, name, ...types[type]! })
        } else if (kind === 1) {
          r.byte()
          r.limits()
        } else if (kind === 2) r.limits()
        else if (kind === 3) {
          valueType(r)
          r.byte()
        } else if (kind === 4) {
          r.byte()
          r.u32() // tag
        } else throw new Error(`unknown import kind ${kind}`)
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) functions.push(r.u32())
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name()
        const kind = r.byte()
        const index = r.u32()
        if (kind === 0) found.exports.push({ name, ...types[functions[index]!]! })
      }
    }
    r.offset = end
  }
  return found
}
