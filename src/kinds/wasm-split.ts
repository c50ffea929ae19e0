/**
 * `polyplug_call` returns its result as one packed i64 (`ptr << 32 | len`, docs/wasm-abi.md). Called
 * from JS, an i64 arrives as a BigInt: one heap object per call, and two more to take it apart.
 * This shim — a wasm module of 100 bytes — calls the guest's export from wasm instead, stores the
 * i64 in its own one-page memory and returns the low half; JS reads the high half from that
 * memory, which never grows, so the view over it is made once. Its source (kept byte for byte
 * equal to SPLIT_WASM by test/wasm-call.test.ts, which compiles it with wabt):
 *
 * ```wat
 * (module
 *   (type $call (func (param i32 i32 i32 i32) (result i64)))
 *   (import "guest" "call" (func $guest (type $call)))
 *   (memory (export "result") 1 1)
 *   (func (export "call") (param i32 i32 i32 i32) (result i32) (local i64)
 *     (i64.store (i32.const 0)
 *       (local.tee 4 (call $guest (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
 *     (i32.wrap_i64 (local.get 4))))
 * ```
 */
export const SPLIT_WAT = `(module
  (type $call (func (param i32 i32 i32 i32) (result i64)))
  (import "guest" "call" (func $guest (type $call)))
  (memory (export "result") 1 1)
  (func (export "call") (param i32 i32 i32 i32) (result i32) (local i64)
    (i64.store (i32.const 0)
      (local.tee 4 (call $guest (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
    (i32.wrap_i64 (local.get 4))))`

// prettier-ignore
export const SPLIT_WASM = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x11, 0x02, // types: 2
  0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7e, //   (i32 i32 i32 i32) -> i64
  0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, //   (i32 i32 i32 i32) -> i32
  0x02, 0x0e, 0x01, 0x05, 0x67, 0x75, 0x65, 0x73, 0x74, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x00, // import guest.call: type 0
  0x03, 0x02, 0x01, 0x01, // functions: 1, of type 1
  0x05, 0x04, 0x01, 0x01, 0x01, 0x01, // memory: min 1, max 1
  0x07, 0x11, 0x02, 0x06, 0x72, 0x65, 0x73, 0x75, 0x6c, 0x74, 0x02, 0x00, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x01, // exports: "result" memory 0, "call" func 1
  0x0a, 0x1a, 0x01, 0x18, 0x01, 0x01, 0x7e, // code: 1 body of 24 bytes, one i64 local
  0x41, 0x00, // i32.const 0
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x10, 0x00, // local.get 0..3, call $guest
  0x22, 0x04, 0x37, 0x03, 0x00, // local.tee 4, i64.store align=8 offset=0
  0x20, 0x04, 0xa7, 0x0b, // local.get 4, i32.wrap_i64, end
])

let compiled: WebAssembly.Module | undefined

/** `polyplug_call` through the shim: returns the result's length; `result[1]` then holds its pointer. */
export interface SplitCall {
  call(methodPtr: number, methodLen: number, argsPtr: number, argsLen: number): number
  /** The last result as two u32: [len, ptr]. Read it right after `call`, before the next one. */
  readonly result: Uint32Array
}

/**
 * Wraps a guest's `polyplug_call`. Throws a LinkError when the export's signature is not
 * (i32 i32 i32 i32) -> i64.
 */
export function splitCall(guestCall: (methodPtr: number, methodLen: number, argsPtr: number, argsLen: number) => bigint): SplitCall {
  compiled ??= new WebAssembly.Module(SPLIT_WASM)
  // Linking checks the import's type: a guest export of another signature throws a LinkError here.
  const instance = new WebAssembly.Instance(compiled, { guest: { call: guestCall } })
  const exports = instance.exports as { call: SplitCall['call']; result: WebAssembly.Memory }
  return { call: exports.call, result: new Uint32Array(exports.result.buffer, 0, 2) }
}
