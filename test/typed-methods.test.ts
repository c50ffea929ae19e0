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
import { validateManifest } from '../src/manifest/validate.js'
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

/** Shared definitions (one recursive), a local `definitions` ref, and optional trailing arguments. */
const shapesManifest = {
  id: 'shapes',
  version: '1.0.0',
  kind: 'js',
  entry: 'index.js',
  validateParams: true,
  contributes: {
    $defs: {
      Point: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'], additionalProperties: false },
      'tree-node': { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/tree-node' } } }, required: ['label'] },
    },
    methods: [
      {
        name: 'move',
        params: [
          { title: 'to', $ref: '#/$defs/Point' },
          { title: 'speed', type: 'number', minimum: 0, optional: true },
          { title: 'style', optional: true, definitions: { easing: { enum: ['linear', 'ease'] } }, type: 'object', properties: { easing: { $ref: '#/definitions/easing' } } },
        ],
        result: { $ref: '#/$defs/Point' },
      },
      { name: 'count', params: [{ title: 'tree', $ref: '#/$defs/tree-node' }], result: { type: 'integer' } },
    ],
  },
}

const shapesCode = `const size = (t) => 1 + (t.children ?? []).reduce((n, c) => n + size(c), 0)
export default { methods: { move: (to, speed, style) => ({ x: to.x + (speed ?? 0), y: to.y }), count: (tree) => size(tree) } }
`

async function shapesDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-shapes-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'index.js'), shapesCode)
  await writeFile(join(dir, 'polyplug.json'), JSON.stringify(shapesManifest))
  return dir
}

describe('polyplug types: $ref to shared and local definitions, and optional parameters', () => {
  it('emits each shared definition as an exported type, inlines local ones, and marks optional parameters', async () => {
    const dir = await shapesDir()
    const cli = new CliProcess(['types', dir, '--out', join(dir, 'shapes.d.ts')])
    assert.equal(await cli.exited, 0, cli.stderr)
    const dts = await readFile(join(dir, 'shapes.d.ts'), 'utf8')
    assert.match(dts, /^export type Point = \{\n {2}x: number\n {2}y: number\n\}$/m)
    assert.match(dts, /^export type TreeNode = \{\n {2}label: string\n {2}children\?: TreeNode\[\]\n\}$/m)
    assert.match(dts, /move\(to: Point, speed\?: number, style\?: \{\n {4}easing\?: "linear" \| "ease"\n {2}\}\): Point/)
    assert.match(dts, /count\(tree: TreeNode\): number/)
    // The .d.ts alone compiles under strict.
    assert.deepEqual(typecheck(dir, 'shapes.d.ts'), [])
  })

  it('tsc accepts right calls through proxy<Api>() and refuses wrong shapes, missing and extra arguments', async () => {
    const dir = await shapesDir()
    await writeFile(join(dir, 'shapes.d.ts'), emitDts(shapesManifest))
    const types = join(root, 'src', 'rpc', 'types.js')
    const head = `import type { ShapesApi, Point } from './shapes.js'\nimport type { Remote } from ${JSON.stringify(types)}\ndeclare const api: Remote<ShapesApi>\n`
    await writeFile(
      join(dir, 'good.ts'),
      `${head}export const a: Promise<Point> = api.move({ x: 1, y: 2 })\nexport const b = api.move({ x: 1, y: 2 }, 3, { easing: 'ease' })\nexport const c: Promise<number> = api.count({ label: 'root', children: [{ label: 'leaf', children: [] }] })\n`,
    )
    assert.deepEqual(typecheck(dir, 'good.ts'), [])
    await writeFile(
      join(dir, 'bad.ts'),
      `${head}export const d = api.move({ x: 1 })\nexport const e = api.move()\nexport const f = api.move({ x: 1, y: 2 }, 3, {}, 4)\nexport const g = api.move({ x: 1, y: 2 }, 3, { easing: 'bounce' })\nexport const h = api.count({ label: 'root', children: [{ name: 'leaf' }] })\n`,
    )
    const errors = typecheck(dir, 'bad.ts')
    assert.equal(errors.length, 5, errors.join('\n'))
    assert.match(errors[0]!, /Property 'y' is missing/)
    assert.match(errors[1]!, /Expected 1-3 arguments, but got 0/)
    assert.match(errors[2]!, /Expected 1-3 arguments, but got 4/)
    assert.match(errors[3]!, /'"bounce"' is not assignable to type '"linear" \| "ease"/)
    assert.match(errors[4]!, /'name' does not exist in type 'TreeNode'/)
  })

  it('validateParams resolves the same $refs and lets trailing optional arguments be left out', async () => {
    const host = await createHost({ plugins: [await shapesDir()], logger: silentLogger })
    cleanup.push(() => host.close())
    const shapes = host.plugin('shapes')
    assert.deepEqual(await shapes.call('move', [{ x: 1, y: 2 }]), { x: 1, y: 2 })
    assert.deepEqual(await shapes.call('move', [{ x: 1, y: 2 }, 3, { easing: 'ease' }]), { x: 4, y: 2 })
    assert.equal(await shapes.call('count', [{ label: 'a', children: [{ label: 'b' }, { label: 'c', children: [{ label: 'd' }] }] }]), 4)
    const shape = await rejectsWithCode(shapes.call('move', [{ x: 1 }]), 'INVALID_PARAMS')
    assert.match(shape.message, /argument 1 of move\(to, speed\?, style\?\), "to": to must have required property 'y'/)
    const local = await rejectsWithCode(shapes.call('move', [{ x: 1, y: 2 }, 1, { easing: 'bounce' }]), 'INVALID_PARAMS')
    assert.match(local.message, /argument 3 of move\(to, speed\?, style\?\), "style": style\.easing must be equal to one of the allowed values/)
    const nested = await rejectsWithCode(shapes.call('count', [{ label: 'a', children: [{ label: 7 }] }]), 'INVALID_PARAMS')
    assert.match(nested.message, /"tree": tree\.children\.0\.label must be string/)
    const extra = await rejectsWithCode(shapes.call('move', [{ x: 1, y: 2 }, 1, {}, 4]), 'INVALID_PARAMS')
    assert.match(extra.message, /move takes 1 to 3 arguments, move\(to, speed\?, style\?\); it was given 4/)
    const none = await rejectsWithCode(shapes.call('move', []), 'INVALID_PARAMS')
    assert.match(none.message, /it was given 0/)
  })

  it('a $ref that reaches nothing, and a required argument after an optional one, are refused when the manifest is read', () => {
    const methods = [{ name: 'm', params: [{ title: 'a', optional: true, type: 'string' }, { title: 'b', type: 'string' }], result: { $ref: '#/$defs/Missing' } }]
    assert.throws(
      () => validateManifest({ id: 'bad-sig', version: '1.0.0', kind: 'js', entry: 'index.js', contributes: { methods } }, 'polyplug.json'),
      (error: Error) => {
        assert.match(error.message, /\/contributes\/methods\/0\/params\/1: expected an optional argument \(after an optional one, every argument is optional: a call can only leave out trailing ones\), found a required argument "b"/)
        assert.match(error.message, /\/contributes\/methods\/0\/result\/\$ref: expected a \$ref to "#\/\$defs\/NAME" \(a name in contributes\.\$defs\) or to a JSON pointer within this schema, found "#\/\$defs\/Missing"/)
        return true
      },
    )
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
