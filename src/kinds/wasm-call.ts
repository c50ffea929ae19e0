/**
 * The bytes of one call into a polyplug-ABI instance (docs/wasm-abi.md), at the least cost per call:
 * - the input (the method's name, then the JSON argument array) is written straight into guest
 *   memory, into an input buffer allocated once per instance and reused by every call while no
 *   other call is using it (a call nested in a waiting one, from a worker's message pump, gets a
 *   buffer of its own, allocated and freed around it, as every call did before);
 * - `polyplug_call`'s packed i64 is split by a wasm shim (./wasm-split.ts): no BigInt per call;
 * - one Buffer over the memory serves every call until the memory grows: growing detaches the old
 *   ArrayBuffer, so the view's length drops to 0 (or, for a shared memory, stays below the new
 *   size), and any access past the view's end makes it again first;
 * - short ASCII text is copied by a JS loop both ways: cheaper than a call into C++ (Buffer#write,
 *   TextEncoder#encodeInto, Buffer#toString) below a few dozen characters.
 */
import { base64ToBytes, BYTES_TAG } from '../rpc/bytes.js'
import { parse } from '../rpc/codec.js'
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { splitCall, type SplitCall } from './wasm-split.js'
import { NOT_SCALAR, scalarAt } from './wasm-json.js'

export interface GuestExports {
  polyplug_alloc: (size: number) => number
  polyplug_free: (ptr: number, size: number) => void
  polyplug_call: (methodPtr: number, methodLen: number, argsPtr: number, argsLen: number) => bigint
}

/** The reusable input buffer's size: JSON argument text up to a third of it (UTF-8's worst case) goes there. */
export const INPUT_BYTES = 8192
/** Text up to this many UTF-16 units is copied by the JS loop; longer text by Buffer (C++). */
const LOOP_MAX = 48

const BYTES_PREFIX = Buffer.from(`{"${BYTES_TAG}":"`)

/** Writes `text` at `at` when it is ASCII; -1 (having written a prefix) when it is not. */
function writeAscii(view: Buffer, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0x7f) return -1
    view[at + i] = c
  }
  return text.length
}

/** The text of `len` bytes at `at` when they are ASCII; undefined when they are not. */
function readAscii(view: Buffer, at: number, len: number): string | undefined {
  let text = ''
  for (let i = at; i < at + len; i++) {
    const c = view[i]!
    if (c > 0x7f) return undefined
    text += String.fromCharCode(c)
  }
  return text
}

/** A method's name as the bytes written before its arguments. */
export class MethodName {
  readonly bytes: Uint8Array
  constructor(readonly name: string) {
    this.bytes = Buffer.from(name, 'utf8')
  }
}

export class GuestCalls {
  #view: Buffer
  /** The reusable input buffer (0 until the first call that fits, or when the guest had no room for it). */
  #input = 0
  #inputBusy = false
  #inputTried = false
  readonly #split: SplitCall

  constructor(
    readonly exports: GuestExports,
    readonly memory: WebAssembly.Memory,
    readonly plugin: string,
  ) {
    this.#view = Buffer.from(memory.buffer)
    try {
      this.#split = splitCall(exports.polyplug_call)
    } catch (cause) {
      if (!(cause instanceof WebAssembly.LinkError)) throw cause
      throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `polyplug_call must take (i32, i32, i32, i32) and return i64 (docs/wasm-abi.md): ${(cause as Error).message}`, { plugin, cause })
    }
  }

  /** Guest memory as a Buffer at least `end` bytes long, made again only after the memory grew; undefined past the memory's end. */
  #bytes(end: number): Buffer | undefined {
    if (end <= this.#view.length) return this.#view
    this.#view = Buffer.from(this.memory.buffer)
    return end <= this.#view.length ? this.#view : undefined
  }

  /**
   * Writes the input and runs `polyplug_call`; returns the result's length (its pointer is then
   * `resultPtr`). Throws a PolyplugError when the guest's allocator fails; traps and exceptions
   * from imports propagate as they are, and leave the input to the instance (a trapped instance is
   * discarded, and nothing more is called in it).
   */
  call(method: MethodName, args: string): number {
    const name = method.bytes
    const nameLen = name.length
    const worst = nameLen + args.length * 3
    const reuse = !this.#inputBusy && worst <= INPUT_BYTES && this.#reusableInput() !== 0
    const room = reuse ? INPUT_BYTES : nameLen + Buffer.byteLength(args)
    const input = reuse ? this.#input : this.exports.polyplug_alloc(room)
    if (input === 0) throw new PolyplugError(PluginErrorCodes.PLUGIN_MEMORY_LIMIT, `no guest memory for ${room} argument bytes`, { plugin: this.plugin, method: method.name })
    const view = this.#bytes(input + (reuse ? worst : room))
    if (!view) throw new PolyplugError(RpcErrorCodes.INTERNAL_ERROR, `polyplug_alloc returned ${input}, outside the guest's memory`, { plugin: this.plugin, method: method.name })
    for (let i = 0; i < nameLen; i++) view[input + i] = name[i]!
    const at = input + nameLen
    let argsLen = args.length <= LOOP_MAX ? writeAscii(view, args, at) : -1
    if (argsLen < 0) argsLen = view.write(args, at, 'utf8')
    let len: number
    if (reuse) this.#inputBusy = true
    try {
      len = this.#split.call(input, nameLen, at, argsLen) >>> 0 // the low half, as unsigned
    } finally {
      if (reuse) this.#inputBusy = false
    }
    if (!reuse) this.exports.polyplug_free(input, room)
    return len
  }

  /** The pointer of the result `call` just returned the length of. */
  get resultPtr(): number {
    return this.#split.result[1]!
  }

  #reusableInput(): number {
    if (this.#inputTried) return this.#input
    this.#inputTried = true
    this.#input = this.exports.polyplug_alloc(INPUT_BYTES)
    return this.#input
  }

  /**
   * Decodes the JSON result at ptr/len (a short integer, true, false or null read from the bytes,
   * ./wasm-json.ts, and a bare `{"$bytes":"..."}`, without JSON.parse) and frees it.
   * A result outside the guest's memory, or not JSON, fails with PARSE_ERROR naming the method.
   */
  read(ptr: number, len: number, method: string): unknown {
    const view = this.#bytes(ptr + len)
    if (!view) {
      throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `the result of ${method} (${len} bytes at ${ptr}) lies outside the guest's ${this.#view.length} bytes of memory: polyplug_call must return (ptr << 32 | len) of a buffer from polyplug_alloc (docs/wasm-abi.md)`, {
        plugin: this.plugin,
        method,
      })
    }
    let value: unknown
    try {
      value = decode(view, ptr, len)
    } catch (cause) {
      throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `the result of ${method} is not JSON: ${(cause as Error).message}`, { plugin: this.plugin, method, cause })
    } finally {
      this.exports.polyplug_free(ptr, len)
    }
    return value
  }
}

function decode(view: Buffer, ptr: number, len: number): unknown {
  const scalar = scalarAt(view, ptr, len)
  if (scalar !== NOT_SCALAR) return scalar
  if (len <= LOOP_MAX) {
    const text = readAscii(view, ptr, len)
    if (text !== undefined) return parse(text)
  }
  const start = ptr + BYTES_PREFIX.length
  const end = ptr + len - 2
  if (len >= BYTES_PREFIX.length + 2 && view.indexOf(34, start) === end && view[end + 1] === 125 && view.compare(BYTES_PREFIX, 0, BYTES_PREFIX.length, ptr, start) === 0) {
    return base64ToBytes(view.toString('latin1', start, end))
  }
  return parse(view.toString('utf8', ptr, ptr + len))
}
