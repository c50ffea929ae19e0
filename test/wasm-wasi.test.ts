/**
 * The WASI a `wasm` plugin is given (src/kinds/wasm-wasi.ts): node:wasi's functions reach the
 * guest behind JavaScript functions of the same arity (node:wasi's own, imported directly, make
 * every instance compile an import wrapper per function), and a call through them gets the same
 * answers as a direct one.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Manifest } from '../src/manifest/schema.js'
import { createWasi, plainWasiFunction, prepareWasi, WASI_MODULE } from '../src/kinds/wasm-wasi.js'
import { watToWasm } from './support/wat.js'

const manifest = { id: 'wasi-unit', version: '1.0.0', kind: 'wasm', entry: 'plugin.wasm' } as Manifest

async function setup() {
  await prepareWasi()
  let memory: WebAssembly.Memory | undefined
  const wasi = createWasi('wasi-unit', manifest, '/nonexistent', {
    memory: () => memory!,
    line: () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`)
    },
  })
  return { wasi, setMemory: (m: WebAssembly.Memory) => (memory = m) }
}

describe('WASI for a wasm plugin', () => {
  it("every import is a JavaScript function of node:wasi's arity, none of node:wasi's own", async () => {
    const { wasi } = await setup()
    const native = (wasi.wasi.getImportObject() as Record<string, Record<string, (...args: number[]) => number>>)[WASI_MODULE]!
    assert.deepEqual(Object.keys(wasi.imports).sort(), Object.keys(native).sort())
    for (const [name, fn] of Object.entries(wasi.imports) as Array<[string, (...args: number[]) => number]>) {
      assert.notEqual(fn, native[name], `${name} is node:wasi's own function`)
      assert.equal(fn.length, native[name]!.length, `${name}'s arity`)
      assert.doesNotMatch(Function.prototype.toString.call(fn), /\[native code\]/, `${name} is native`)
    }
  })

  it('passes exactly the arguments it was given, at every arity', () => {
    for (let arity = 0; arity <= 11; arity++) {
      const params = Array.from({ length: arity }, (_, i) => `p${i}`)
      const spy = new Function(...params, 'return arguments.length * 100 + (arguments[arguments.length - 1] ?? 0)') as (...args: number[]) => number
      const plain = plainWasiFunction(spy)
      assert.equal(plain.length, arity > 9 ? 0 : arity)
      assert.equal(plain(...params.map((_, i) => i + 1)), arity * 100 + arity)
    }
  })

  it("a guest's calls get node:wasi's answers: EBADF for an unknown descriptor (not EINVAL), the clock, the environment", async () => {
    const { wasi, setMemory } = await setup()
    const bytes = await watToWasm(`(module
      (import "${WASI_MODULE}" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
      (import "${WASI_MODULE}" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
      (import "${WASI_MODULE}" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "fdstat") (result i32) (call $fdstat (i32.const 99) (i32.const 64)))
      (func (export "clock") (result i64) (drop (call $clock (i32.const 0) (i64.const 0) (i32.const 128))) (i64.load (i32.const 128)))
      (func (export "envCount") (result i32) (drop (call $env (i32.const 136) (i32.const 140))) (i32.load (i32.const 136)))
      (func (export "_initialize")))`, 'wasi-unit.wat')
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { [WASI_MODULE]: wasi.imports as WebAssembly.ModuleImports })
    const exports = instance.exports as { memory: WebAssembly.Memory; fdstat(): number; clock(): bigint; envCount(): number }
    setMemory(exports.memory)
    wasi.wasi.initialize(instance)
    assert.equal(exports.fdstat(), 8) // EBADF; a call with the wrong argument count answers EINVAL (28)
    const now = BigInt(Date.now()) * 1_000_000n
    assert.ok(exports.clock() > now - 60_000_000_000n && exports.clock() < now + 60_000_000_000n)
    assert.equal(exports.envCount(), 0) // no env grant
  })
})
