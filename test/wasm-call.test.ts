/**
 * How a call's bytes cross into a wasm guest (src/kinds/wasm-call.ts, wasm-split.ts): the packed
 * i64 result split without BigInt, memory views that follow a growing memory, the reused input
 * buffer never handed to a call nested in one still using it, and results the host cannot read
 * refused with a typed error. The guests are WebAssembly text compiled with wabt at run time.
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { after, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { SPLIT_WASM, SPLIT_WAT, splitCall } from '../src/kinds/wasm-split.js'
import { rejectsWithCode } from './support/assert-code.js'
import { wasmPluginDir } from './support/wasm-fixture.js'
import { watToWasm } from './support/wat.js'

const cleanup: Array<() => Promise<unknown>> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {})
})

async function hostWith(id: string, placement: 'inline' | 'worker', wat: string): Promise<Host> {
  const dir = await wasmPluginDir({ id, placement }, await watToWasm(wat, `${id}.wat`))
  const host = await createHost({ plugins: [dir], logger: silentLogger, callTimeoutMs: 10_000 })
  cleanup.push(() => rm(dir, { recursive: true, force: true }), () => host.close())
  return host
}

/** A JSON array of method names at address 16, and the describe export that points at it. */
function describeExport(methods: string[]): { data: string; func: string } {
  const json = JSON.stringify(methods)
  return {
    data: `(data (i32.const 16) ${JSON.stringify(json)})`,
    func: `(func (export "polyplug_describe") (result i64) (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const ${Buffer.byteLength(json)})))`,
  }
}

const PACK = (ptr: string, len: string) => `(i64.or (i64.shl (i64.extend_i32_u ${ptr}) (i64.const 32)) (i64.extend_i32_u ${len}))`

/** A guest with one page of memory, an allocator that always answers 1024, `data` segments and the given `polyplug_call`. */
function fixedGuest(methods: string[], call: string, data = ''): string {
  const names = describeExport(methods)
  return `(module
  (memory (export "memory") 1 16)
  ${names.data}
  ${data}
  (func (export "polyplug_abi_version") (result i32) (i32.const 1))
  (func (export "polyplug_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "polyplug_free") (param i32 i32))
  ${names.func}
  ${call})`
}

describe('the split of polyplug_call’s packed result', () => {
  it('is the module its source text describes (wabt compiles SPLIT_WAT to exactly SPLIT_WASM)', async () => {
    assert.deepEqual(await watToWasm(SPLIT_WAT, 'split.wat'), SPLIT_WASM)
  })

  it('gives the pointer and the length of every packed value, high bits included', () => {
    const values = [0n, 5n, (1n << 32n) | 5n, (0x80000000n << 32n) | 0x80000000n, (0xffffffffn << 32n) | 0xfffffffen, (0x12345678n << 32n) | 0x9abcdef0n]
    let next = 0n
    const split = splitCall(() => next)
    for (const value of values) {
      next = value
      const len = split.call(1, 2, 3, 4) >>> 0
      assert.equal(len, Number(value & 0xffffffffn))
      assert.equal(split.result[1], Number(value >> 32n))
    }
  })

  it('passes the four arguments through to the guest in order', () => {
    let seen: number[] = []
    const split = splitCall((a, b, c, d) => {
      seen = [a, b, c, d]
      return 0n
    })
    split.call(7, 0x7fffffff, -1, 42)
    assert.deepEqual(seen, [7, 0x7fffffff, -1, 42])
  })
})

describe('wasm call bytes: a memory that grows under the host', () => {
  // Every allocation grows the memory and lies in the new pages, so each call writes its input and
  // reads its result through memory that did not exist when the previous view was made.
  const names = describeExport(['echo'])
  const grower = `(module
  (memory (export "memory") 1 400)
  ${names.data}
  (func (export "polyplug_abi_version") (result i32) (i32.const 1))
  (func $alloc (export "polyplug_alloc") (param $size i32) (result i32) (local $old i32)
    (local.set $old (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))
    (if (result i32) (i32.eq (local.get $old) (i32.const -1)) (then (i32.const 0)) (else (i32.mul (local.get $old) (i32.const 65536)))))
  (func (export "polyplug_free") (param i32 i32))
  ${names.func}
  ;; echo of the one argument: the argument array without its brackets, in a fresh buffer
  (func (export "polyplug_call") (param $m i32) (param $ml i32) (param $a i32) (param $al i32) (result i64) (local $out i32) (local $n i32)
    (local.set $n (i32.sub (local.get $al) (i32.const 2)))
    (local.set $out (call $alloc (local.get $n)))
    (memory.copy (local.get $out) (i32.add (local.get $a) (i32.const 1)) (local.get $n))
    ${PACK('(local.get $out)', '(local.get $n)')}))`

  for (const placement of ['inline', 'worker'] as const) {
    it(`short, long and non-ASCII arguments and results come through intact (${placement})`, async () => {
      const host = await hostWith(`grower-${placement}`, placement, grower)
      const plugin = host.plugin(`grower-${placement}`)
      const long = 'x'.repeat(10_000) // past the reused input buffer: a buffer of its own
      for (const value of [1, 'a', 'héllo ✓ 日本', { deep: [1, 2, { three: 'é' }] }, long, 'b', 2.5, long + 'é']) {
        assert.deepEqual(await plugin.call('echo', [value]), value)
      }
    })
  }
})

describe('wasm call bytes: a call nested in a waiting one', () => {
  // "slow" waits (in `sleep`) until "fast" has run, nested in it by the worker's message pump, then
  // returns its own argument array: which must still be its own, not the nested call's.
  const names = describeExport(['slow', 'fast'])
  const nester = `(module
  (import "polyplug" "sleep" (func $sleep (param i32) (result i32)))
  (memory (export "memory") 1 16)
  ${names.data}
  (global $next (mut i32) (i32.const 4096))
  (global $released (mut i32) (i32.const 0))
  (func (export "polyplug_abi_version") (result i32) (i32.const 1))
  (func $alloc (export "polyplug_alloc") (param $size i32) (result i32) (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $p))
  (func (export "polyplug_free") (param i32 i32))
  ${names.func}
  (func (export "polyplug_call") (param $m i32) (param $ml i32) (param $a i32) (param $al i32) (result i64) (local $out i32)
    (if (i32.eq (i32.load8_u (local.get $m)) (i32.const 115))
      (then (block $done (loop $wait
        (br_if $done (global.get $released))
        (br_if $done (call $sleep (i32.const 5)))
        (br $wait))))
      (else (global.set $released (i32.const 1))))
    (local.set $out (call $alloc (local.get $al)))
    (memory.copy (local.get $out) (local.get $a) (local.get $al))
    ${PACK('(local.get $out)', '(local.get $al)')}))`

  it('the waiting call still reads its own arguments after the nested call (worker)', async () => {
    const host = await hostWith('nester', 'worker', nester)
    const plugin = host.plugin('nester')
    await plugin.activate()
    const slow = plugin.call('slow', ['s'.repeat(40)])
    const fast = plugin.call('fast', ['f'.repeat(40)])
    assert.deepEqual(await fast, ['f'.repeat(40)])
    assert.deepEqual(await slow, ['s'.repeat(40)])
    // And the buffer is reused again afterwards.
    assert.deepEqual(await plugin.call('fast', ['again']), ['again'])
  })
})

describe('wasm call bytes: results the host cannot read', () => {
  const liar = fixedGuest(
    ['outside', 'garbled', 'fine'],
    `(func (export "polyplug_call") (param $m i32) (param $ml i32) (param $a i32) (param $al i32) (result i64)
    (if (result i64) (i32.eq (i32.load8_u (local.get $m)) (i32.const 111))
      (then ${PACK('(i32.const 0x7fff0000)', '(i32.const 10)')})
      (else (if (result i64) (i32.eq (i32.load8_u (local.get $m)) (i32.const 103))
        (then ${PACK('(i32.const 256)', '(i32.const 5)')})
        (else ${PACK('(i32.const 272)', '(i32.const 2)')})))))`,
    '(data (i32.const 256) "{oops") (data (i32.const 272) "42")',
  )

  for (const placement of ['inline', 'worker'] as const) {
    it(`a result outside the guest's memory, or not JSON, fails with PARSE_ERROR and the plugin keeps serving (${placement})`, async () => {
      const host = await hostWith(`liar-${placement}`, placement, liar)
      const plugin = host.plugin(`liar-${placement}`)
      const outside = await rejectsWithCode(plugin.call('outside', []), 'PARSE_ERROR')
      assert.match(outside.message, /outside the guest's \d+ bytes of memory/)
      assert.equal(outside.method, 'outside')
      const garbled = await rejectsWithCode(plugin.call('garbled', []), 'PARSE_ERROR')
      assert.match(garbled.message, /is not JSON/)
      assert.equal(await plugin.call('fine', []), 42)
    })
  }
})

describe('wasm call bytes: results read without JSON.parse are read as JSON.parse reads them', () => {
  // "text" answers the content of its one string argument as its result text: ["01"] gives 01.
  const parrot = fixedGuest(
    ['text'],
    `(func (export "polyplug_call") (param $m i32) (param $ml i32) (param $a i32) (param $al i32) (result i64)
    (memory.copy (i32.const 16384) (i32.add (local.get $a) (i32.const 2)) (i32.sub (local.get $al) (i32.const 4)))
    ${PACK('(i32.const 16384)', '(i32.sub (local.get $al) (i32.const 4))')})`,
  )

  it('short integers, literals, and the texts left to JSON.parse give its value, or PARSE_ERROR where it throws (inline)', async () => {
    const host = await hostWith('parrot-inline', 'inline', parrot)
    const plugin = host.plugin('parrot-inline')
    for (const text of ['1', '-0', '0', '123456789012345', '-42', 'true', 'false', 'null', ' 7', '1.5', '2e3', '1234567890123456', '9007199254740993', '[1,{}]']) {
      assert.deepEqual(await plugin.call('text', [text]), JSON.parse(text), text) // strict: -0 is not 0
    }
    for (const text of ['01', '-', '+1', 'tru', 'nulll', '1a', '-01']) {
      const error = await rejectsWithCode(plugin.call('text', [text]), 'PARSE_ERROR')
      assert.match(error.message, /is not JSON/, text)
    }
  })
})

describe('wasm call bytes: a polyplug_call of another signature', () => {
  const wrong = fixedGuest(['echo'], '(func (export "polyplug_call") (param i32 i32 i32 i32) (result i32) (i32.const 0))')

  it('is refused at load with PLUGIN_UNAVAILABLE naming the signature the ABI wants', async () => {
    const host = await hostWith('wrong-signature', 'inline', wrong)
    const error = await rejectsWithCode(host.plugin('wrong-signature').call('echo', [1]), 'PLUGIN_UNAVAILABLE')
    assert.match(error.message, /polyplug_call must take \(i32, i32, i32, i32\) and return i64/)
  })
})
