// polyplug WASM ABI v1 for AssemblyScript (docs/wasm-abi.md). A plugin re-exports the ABI
// exports from here and implements `dispatch`:
//   export { polyplug_abi_version, polyplug_alloc, polyplug_free } from "../../kits/assemblyscript/polyplug"
// Buffers are raw guest memory (ptr, len) holding UTF-8 JSON; nothing is managed by the GC.

@external("polyplug", "host_call")
declare function host_call(m: usize, ml: u32, a: usize, al: u32, out: usize): i32
@external("polyplug", "error")
declare function error_import(c: usize, cl: u32, m: usize, ml: u32): void
@external("polyplug", "sleep")
export declare function sleep(ms: u32): i32
@external("polyplug", "abort")
export declare function exitGuest(code: i32): void

export function polyplug_abi_version(): i32 {
  return 1
}

export function polyplug_alloc(size: u32): usize {
  return heap.alloc(size > 0 ? <usize>size : 1)
}

export function polyplug_free(ptr: usize, size: u32): void {
  heap.free(ptr)
}

/** A byte range in guest memory. */
export class Slice {
  constructor(public ptr: usize, public len: u32) {}
  is(text: string): bool {
    const bytes = String.UTF8.encode(text)
    if (<u32>bytes.byteLength != this.len) return false
    return memory.compare(changetype<usize>(bytes), this.ptr, this.len) == 0
  }
  /** The contents of a JSON string without its quotes (no unescaping). */
  unquoted(): Slice {
    return this.len >= 2 ? new Slice(this.ptr + 1, this.len - 2) : new Slice(this.ptr, 0)
  }
  text(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.len)
  }
  number(): f64 {
    return F64.parseFloat(this.text())
  }
}

export function pack(ptr: usize, len: u32): u64 {
  return (<u64>ptr << 32) | <u64>len
}

/** A fresh result buffer holding `slice`'s bytes. */
export function okCopy(slice: Slice): u64 {
  const out = polyplug_alloc(slice.len)
  memory.copy(out, slice.ptr, slice.len)
  return pack(out, slice.len)
}

export function okText(text: string): u64 {
  const bytes = String.UTF8.encode(text)
  return okCopy(new Slice(changetype<usize>(bytes), <u32>bytes.byteLength))
}

export function okNumber(value: f64): u64 {
  return okText(value == Math.floor(value) && Math.abs(value) < 1e15 ? (<i64>value).toString() : value.toString())
}

export function fail(code: Slice, message: string): u64 {
  const m = String.UTF8.encode(message)
  error_import(code.ptr, code.len, changetype<usize>(m), <u32>m.byteLength)
  return 0
}

export function failText(code: string, message: string): u64 {
  const c = String.UTF8.encode(code)
  return fail(new Slice(changetype<usize>(c), <u32>c.byteLength), message)
}

/** Calls the host; on success returns the result buffer, else re-raises the host's error. */
export function callHost(method: Slice, args: Slice): u64 {
  const out = heap.alloc(8)
  const status = host_call(method.ptr, method.len, args.ptr, args.len, out)
  const result = new Slice(load<u32>(out), load<u32>(out, 4))
  heap.free(out)
  if (status == 0) return pack(result.ptr, result.len)
  const code = field(result, "code")
  const message = field(result, "message")
  return fail(code ? code.unquoted() : new Slice(0, 0), message ? message.unquoted().text() : "host call failed")
}

function isSpace(c: u8): bool {
  return c == 32 || c == 10 || c == 13 || c == 9
}

function skipSpace(s: Slice, i: u32): u32 {
  while (i < s.len && isSpace(load<u8>(s.ptr + i))) i++
  return i
}

/** Index just past the JSON value starting at i. */
function skipValue(s: Slice, i: u32): u32 {
  let depth = 0
  for (; i < s.len; i++) {
    const c = load<u8>(s.ptr + i)
    if (c == 34) {
      for (i++; i < s.len && load<u8>(s.ptr + i) != 34; i++) if (load<u8>(s.ptr + i) == 92) i++
      if (depth == 0) return i + 1
    } else if (c == 91 || c == 123) depth++
    else if (c == 93 || c == 125) {
      if (depth == 0) return i
      if (--depth == 0) return i + 1
    } else if (depth == 0 && (c == 44 || c == 58)) return i
  }
  return i
}

function trimmed(s: Slice, start: u32, end: u32): Slice {
  while (end > start && isSpace(load<u8>(s.ptr + end - 1))) end--
  return new Slice(s.ptr + start, end - start)
}

/** Element `index` of a top-level JSON array, or null. */
export function item(array: Slice, index: u32): Slice | null {
  let i = skipSpace(array, 0)
  if (i >= array.len || load<u8>(array.ptr + i) != 91) return null
  for (let n: u32 = 0; ; n++) {
    i = skipSpace(array, i + 1)
    if (i >= array.len || load<u8>(array.ptr + i) == 93) return null
    const end = skipValue(array, i)
    if (n == index) return trimmed(array, i, end)
    i = skipSpace(array, end)
    if (i >= array.len || load<u8>(array.ptr + i) != 44) return null
  }
  return null
}

/** Field `key` of a JSON object, or null. */
export function field(object: Slice, key: string): Slice | null {
  let i = skipSpace(object, 0)
  if (i >= object.len || load<u8>(object.ptr + i) != 123) return null
  for (;;) {
    i = skipSpace(object, i + 1)
    if (i >= object.len || load<u8>(object.ptr + i) != 34) return null
    const keyEnd = skipValue(object, i)
    const k = new Slice(object.ptr + i + 1, keyEnd - i - 2)
    i = skipSpace(object, keyEnd)
    if (i >= object.len || load<u8>(object.ptr + i) != 58) return null
    i = skipSpace(object, i + 1)
    const end = skipValue(object, i)
    if (k.is(key)) return trimmed(object, i, end)
    i = skipSpace(object, end)
    if (i >= object.len || load<u8>(object.ptr + i) != 44) return null
  }
  return null
}
