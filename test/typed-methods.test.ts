/**
 * Typed methods: signatures declared once as JSON Schema in contributes.methods become a .d.ts for
 * proxy<Api>() (`polyplug types`), checked by the real TypeScript compiler, and — when the manifest
 * says validateParams — the host refuses mismatching arguments with INVALID_PARAMS.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import ts from 'typescript'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { emitDts, schemaToTs } from '../src/types/dts.js'
import { rejectsWithCode } from './support/assert-code.js'
import { CliProcess } from './support/cli-process.js'
import { root } from './support/paths.js'

const cleanup: Array<() => unknown> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

const greeterMethods = [
  {
    name: 'greet',
    description: 'Greets someone.',
    params: [
      { title: 'name', type: 'string', minLength: 1 },
      { title: 'options', type: 'object', properties: { loud: { type: 'boolean' }, times: { type: 'integer', minimum: 1 } }, additionalProperties: false },
    ],
    result: { type: 'string' },
  },
  { name: 'stats', params: [], result: { type: 'object', properties: { calls: { type: 'number' }, names: { type: 'array', items: { type: 'string' } } }, required: ['calls'] } },
  'ping',
]

async function greeterDir(validateParams: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-typed-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  await writeFile(
    join(dir, 'index.js'),
    "let calls = 0\nexport default { methods: { greet: (name, options) => { calls++; const s = 'hello, ' + String(name); return options?.loud ? s.toUpperCase() : s }, stats: () => ({ calls }), ping: () => 'pong' } }\n",
  )
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id: 'greeter', version: '1.0.0', kind: 'js', entry: 'index.js', validateParams, contributes: { methods: greeterMethods } }))
  return dir
}

/** Type-checks `files` (name -> text) with the repository's TypeScript; returns the diagnostics as text. */
function typecheck(dir: string, main: string): string[] {
  const program = ts.createProgram([join(dir, main)], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true })
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

describe('polyplug types: the .d.ts of the declared methods', () => {
  it('JSON Schema keywords become the TypeScript a signature needs', () => {
    assert.equal(schemaToTs({ type: 'string' }), 'string')
    assert.equal(schemaToTs({ type: ['integer', 'null'] }), 'number | null')
    assert.equal(schemaToTs({ enum: ['a', 'b'] }), '"a" | "b"')
    assert.equal(schemaToTs({ type: 'array', items: { type: 'number' } }), 'number[]')
    assert.equal(schemaToTs({ type: 'array', prefixItems: [{ type: 'string' }, { const: 1 }] }), '[string, 1]')
    assert.equal(schemaToTs({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }), '{\n  a: string\n}')
    assert.equal(schemaToTs({ anyOf: [{ type: 'string' }, { type: 'object' }] }), 'string | Record<string, unknown>')
    assert.equal(schemaToTs({ $ref: '#/defs/x' }), 'unknown')
  })

  it('the application type-checks its calls through proxy<Api>(): right calls compile, wrong ones do not', async () => {
    const dir = await greeterDir(false)
    const cli = new CliProcess(['types', dir, '--out', join(dir, 'greeter.d.ts')])
    assert.equal(await cli.exited, 0, cli.stderr)
    const dts = await readFile(join(dir, 'greeter.d.ts'), 'utf8')
    assert.match(dts, /export interface GreeterApi \{/)
    assert.match(dts, /greet\(name: string, options: \{\n {4}loud\?: boolean\n {4}times\?: number\n {2}\}\): string/)
    assert.match(dts, /ping\(\.\.\.args: unknown\[\]\): unknown/)

    const types = join(root, 'src', 'rpc', 'types.js')
    const good = `import type { GreeterApi } from './greeter.js'\nimport type { Remote } from ${JSON.stringify(types)}\ndeclare const api: Remote<GreeterApi>\nexport const a: Promise<string> = api.greet('ann', { loud: true })\nexport const b: Promise<number> = api.stats().then((s) => s.calls)\n`
    await writeFile(join(dir, 'good.ts'), good)
    assert.deepEqual(typecheck(dir, 'good.ts'), [])
    await writeFile(join(dir, 'bad.ts'), `${good}export const c = api.greet(42, {})\nexport const d = api.greet('x', { loud: 'yes' })\n`)
    const errors = typecheck(dir, 'bad.ts')
    assert.equal(errors.length, 2, errors.join('\n'))
    assert.match(errors[0]!, /'number' is not assignable to parameter of type 'string'/)
    assert.match(errors[1]!, /'string' is not assignable to type 'boolean( \| undefined)?'/)
  })

  it('emits from the manifest alone: the plugin does not run', () => {
    const dts = emitDts({ id: 'my-tool.v2', version: '2.0.0', contributes: { methods: [{ name: 'odd-name', params: [{ type: 'string' }] }] } })
    assert.match(dts, /export interface MyToolV2Api \{\n {2}"odd-name"\(arg0: string\): unknown\n\}/)
  })
})

describe('validateParams: the host checks arguments against the declared schemas', () => {
  it('a mismatch is INVALID_PARAMS naming the argument and the problem; the plugin is not reached', async () => {
    const host = await createHost({ plugins: [await greeterDir(true)], logger: silentLogger })
    cleanup.push(() => host.close())
    const greeter = host.plugin('greeter')
    assert.equal(await greeter.call('greet', ['ann', { loud: true }]), 'HELLO, ANN')

    const wrongType = await rejectsWithCode(greeter.call('greet', [42, {}]), 'INVALID_PARAMS')
    assert.match(wrongType.message, /argument 1 of greet\(name, options\), "name": name must be string/)
    assert.equal(wrongType.plugin, 'greeter')
    assert.equal(wrongType.method, 'greet')
    assert.deepEqual((wrongType.data as { argument: number; name: string }).name, 'name')

    const nested = await rejectsWithCode(greeter.call('greet', ['ann', { times: 0 }]), 'INVALID_PARAMS')
    assert.match(nested.message, /argument 2 of greet\(name, options\), "options": options\.times must be >= 1/)

    const count = await rejectsWithCode(greeter.call('greet', ['ann']), 'INVALID_PARAMS')
    assert.match(count.message, /greet takes 2 arguments, greet\(name, options\); it was given 1/)

    // Undeclared params: not checked. And the refused calls never reached the plugin.
    assert.equal(await greeter.call('ping', [1, 2, 3]), 'pong')
    assert.deepEqual(await greeter.call('stats', []), { calls: 1 })
  })

  it('without validateParams the same arguments reach the plugin', async () => {
    const host = await createHost({ plugins: [await greeterDir(false)], logger: silentLogger })
    cleanup.push(() => host.close())
    assert.equal(await host.plugin('greeter').call('greet', [42, {}]), 'hello, 42')
  })
})
