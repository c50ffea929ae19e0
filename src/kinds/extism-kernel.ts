/**
 * The Extism kernel's memory, implemented on the host in TypeScript under a byte budget.
 *
 * Extism keeps a second memory beside the guest's: the blocks `alloc`, `input_*`, `output_set`,
 * `error_set`, `config_get` and `var_*` work on, named by 64-bit offsets (0 is "none"). Here each
 * block is its own byte array, addressed as `index << 48 | byte offset` (the scheme of Extism's
 * JavaScript SDK, so address arithmetic inside a block works as PDKs expect). Every byte the
 * kernel holds (blocks, which live for one call, and vars, which live as long as the instance)
 * counts against the same budget as the guest's linear memory: `alloc` answers 0 when it would
 * pass the budget, as Extism's kernel does when out of memory.
 */
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

const SHIFT = 48n
const MASK = (1n << SHIFT) - 1n
/** Block index of an address; wasm hands i64 over signed, so past 2^15 blocks addresses arrive negative. */
const indexOf = (address: bigint) => Number(BigInt.asUintN(64, address) >> SHIFT)
const decoder = new TextDecoder()

/** A kernel address that names no live block: the guest has a bug; treated like a trap. */
function badAddress(what: string, address: bigint): never {
  throw new WebAssembly.RuntimeError(`extism kernel: ${what} at bad address 0x${BigInt.asUintN(64, address).toString(16)}`)
}

export class ExtismKernel {
  readonly #blocks: Array<Uint8Array | null> = [null]
  readonly #vars = new Map<string, Uint8Array>()
  #blockBytes = 0
  #varBytes = 0
  #input = 0
  #output: { index: number; length: number } | undefined
  #error = 0

  /** `outside()`: the bytes the guest's own linear memory holds now. */
  constructor(
    readonly plugin: string,
    readonly limitBytes: number,
    readonly outside: () => number,
  ) {}

  /** Bytes still free under the budget (guest memory + kernel blocks + vars). */
  available(): number {
    return this.limitBytes - this.outside() - this.#blockBytes - this.#varBytes
  }

  /** Starts a call: every block of the previous call is released; vars stay. */
  begin(input: Uint8Array): void {
    this.#blocks.length = 1
    this.#blockBytes = 0
    this.#output = undefined
    this.#error = 0
    this.#input = 0
    if (input.length > this.available()) {
      throw new PolyplugError(ErrorCodes.PLUGIN_MEMORY_LIMIT, `the ${input.length}-byte input does not fit the plugin's memory limit (limits.memoryMb)`, {
        plugin: this.plugin,
        data: { limitBytes: this.limitBytes },
      })
    }
    this.#input = indexOf(this.store(input))
  }

  alloc(n: bigint | number): bigint {
    const size = Number(BigInt.asUintN(64, BigInt(n)))
    if (size > this.available()) return 0n
    this.#blocks.push(new Uint8Array(size))
    this.#blockBytes += size
    return BigInt(this.#blocks.length - 1) << SHIFT
  }

  /** Copies bytes into a fresh block; 0 when they do not fit. */
  store(bytes: Uint8Array): bigint {
    const address = this.alloc(bytes.length)
    if (address !== 0n) this.#blocks[indexOf(address)]!.set(bytes)
    return address
  }

  free(address: bigint): void {
    const index = indexOf(address)
    const block = this.#blocks[index]
    if (!block || index === this.#input) return
    this.#blockBytes -= block.length
    this.#blocks[index] = null
  }

  #block(address: bigint): Uint8Array | undefined {
    return this.#blocks[indexOf(address)] ?? undefined
  }

  length(address: bigint): bigint {
    return BigInt(this.#block(address)?.length ?? 0)
  }

  /** The whole block at `address` (a copy), or undefined. */
  read(address: bigint): Uint8Array | undefined {
    return this.#block(address)?.slice()
  }

  text(address: bigint): string | undefined {
    const block = this.#block(address)
    return block && decoder.decode(block)
  }

  // Byte access is the hot path (PDKs copy through load/store): no DataView for single bytes.
  #at(address: bigint, width: number, what: string): [Uint8Array, number] {
    const block = this.#blocks[indexOf(address)]
    const offset = Number(address & MASK)
    if (!block || offset + width > block.length) badAddress(what, address)
    return [block, offset]
  }

  loadU8(address: bigint): number {
    const [block, offset] = this.#at(address, 1, 'load_u8')
    return block[offset]!
  }
  loadU64(address: bigint): bigint {
    const [block, offset] = this.#at(address, 8, 'load_u64')
    return new DataView(block.buffer, block.byteOffset + offset, 8).getBigUint64(0, true)
  }
  storeU8(address: bigint, value: number): void {
    const [block, offset] = this.#at(address, 1, 'store_u8')
    block[offset] = value
  }
  storeU64(address: bigint, value: bigint): void {
    const [block, offset] = this.#at(address, 8, 'store_u64')
    new DataView(block.buffer, block.byteOffset + offset, 8).setBigUint64(0, value, true)
  }

  inputAddress(): bigint {
    return BigInt(this.#input) << SHIFT
  }
  inputLength(): bigint {
    return BigInt(this.#blocks[this.#input]?.length ?? 0)
  }
  inputLoadU8(offset: bigint): number {
    return this.loadU8(this.inputAddress() + offset)
  }
  inputLoadU64(offset: bigint): bigint {
    return this.loadU64(this.inputAddress() + offset)
  }

  setOutput(address: bigint, length: bigint): void {
    const block = this.#block(address)
    if (!block || Number(length) > block.length) badAddress('output_set', address)
    this.#output = { index: indexOf(address), length: Number(length) }
  }
  output(): Uint8Array {
    const out = this.#output
    return out ? (this.#blocks[out.index]?.slice(0, out.length) ?? new Uint8Array(0)) : new Uint8Array(0)
  }

  /** error_set: 0 clears the error. */
  setError(address: bigint): void {
    if (address !== 0n && !this.#block(address)) badAddress('error_set', address)
    this.#error = indexOf(address)
  }
  errorAddress(): bigint {
    return BigInt(this.#error) << SHIFT
  }
  /** The error message the guest set during this call, if any. */
  error(): string | undefined {
    return this.#error === 0 ? undefined : this.text(this.errorAddress())
  }

  /** var_get: a fresh block holding the var's value, or 0. */
  getVar(key: string): bigint {
    const value = this.#vars.get(key)
    return value ? this.store(value) : 0n
  }
  /** var_set: 0 deletes; a value past the budget fails the call. */
  setVar(key: string, address: bigint): void {
    const old = this.#vars.get(key)?.length ?? 0
    if (address === 0n) {
      this.#vars.delete(key)
      this.#varBytes -= old
      return
    }
    const value = this.read(address) ?? badAddress('var_set', address)
    if (value.length - old > this.available()) {
      throw new PolyplugError(ErrorCodes.PLUGIN_MEMORY_LIMIT, `var "${key}" (${value.length} bytes) does not fit the plugin's memory limit (limits.memoryMb)`, {
        plugin: this.plugin,
        data: { limitBytes: this.limitBytes },
      })
    }
    this.#vars.set(key, value)
    this.#varBytes += value.length - old
  }

  /** Bytes held by kernel blocks and vars (for tests and diagnostics). */
  held(): number {
    return this.#blockBytes + this.#varBytes
  }
}
