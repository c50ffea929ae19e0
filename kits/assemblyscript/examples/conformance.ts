// The conformance interface (docs/conformance.md) in AssemblyScript, on the polyplug WASM ABI.
// Built by `npm run build:wasm` into examples/wasm-as-worker/plugin.wasm.
import { Slice, callHost, exitGuest, fail, failText, item, okCopy, okNumber, okText, pack, polyplug_alloc, sleep } from "../polyplug"
export { polyplug_abi_version, polyplug_alloc, polyplug_free } from "../polyplug"

let cancelled: i32 = 0

const METHODS = '["echo","add","fail","sleep","cancelCount","bytes","callHost","crash","trap"]'

let described: u64 = 0

// The ABI leaves this buffer to the guest: build it once.
export function polyplug_describe(): u64 {
  if (described == 0) described = okText(METHODS)
  return described
}

function arg(args: Slice, index: u32): Slice {
  const found = item(args, index)
  return found ? found : new Slice(0, 0)
}

const TABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function bytes(n: u32): u64 {
  const b64 = (n + 2) / 3 * 4
  const prefix = '{"$bytes":"'
  const total = <u32>prefix.length + b64 + 2
  const out = polyplug_alloc(total)
  for (let i = 0; i < prefix.length; i++) store<u8>(out + i, <u8>prefix.charCodeAt(i))
  let o = out + prefix.length
  for (let i: u32 = 0; i < n; i += 3) {
    const v: u32 = ((i & 255) << 16) | (i + 1 < n ? ((i + 1) & 255) << 8 : 0) | (i + 2 < n ? (i + 2) & 255 : 0)
    store<u8>(o++, <u8>TABLE.charCodeAt((v >> 18) & 63))
    store<u8>(o++, <u8>TABLE.charCodeAt((v >> 12) & 63))
    store<u8>(o++, i + 1 < n ? <u8>TABLE.charCodeAt((v >> 6) & 63) : 61)
    store<u8>(o++, i + 2 < n ? <u8>TABLE.charCodeAt(v & 63) : 61)
  }
  store<u8>(o++, 34)
  store<u8>(o++, 125)
  return pack(out, total)
}

export function polyplug_call(mPtr: usize, mLen: u32, aPtr: usize, aLen: u32): u64 {
  const method = new Slice(mPtr, mLen)
  const args = new Slice(aPtr, aLen)
  if (method.is("echo")) return okCopy(arg(args, 0))
  if (method.is("add")) return okNumber(arg(args, 0).number() + arg(args, 1).number())
  if (method.is("fail")) {
    const code = arg(args, 0).unquoted()
    return fail(code, "failed on request with code " + code.text())
  }
  if (method.is("sleep")) {
    const ms = arg(args, 0).number()
    if (sleep(<u32>ms) != 0) {
      cancelled++
      return failText("RPC_CANCELLED", "sleep cancelled")
    }
    return okNumber(ms)
  }
  if (method.is("cancelCount")) return okNumber(cancelled)
  if (method.is("bytes")) return bytes(<u32>arg(args, 0).number())
  if (method.is("callHost")) return callHost(arg(args, 0).unquoted(), arg(args, 1))
  if (method.is("crash")) exitGuest(70)
  if (method.is("trap")) unreachable()
  return failText("METHOD_NOT_FOUND", "no such method")
}
