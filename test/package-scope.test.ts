/**
 * A Node plugin in a folder without a package.json, inside an application that has one: Node reads
 * the nearest package.json above the code it loads (its package scope: the module type). Node 24
 * fails with ERR_INVALID_PACKAGE_CONFIG when the sandbox denies that read, so the sandbox grants
 * reading that one file, never its folder (docs/confinement.md). Run under Node 24 with
 * `npm run test:node -- 24 dist/test/package-scope.test.js`.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import type { Manifest } from '../src/manifest/schema.js'
import { landlockAbi, packageScopeFile, sandboxCommand } from '../src/placement/sandbox.js'

/**
 * A sidecar speaking ndjson by hand. No import or export statement: it is an ES module only because
 * the application's package.json says `"type": "module"`, so its answer shows whether Node read it.
 */
const sidecar = `const moduleType = typeof require === 'undefined' ? 'module' : 'commonjs'
const attempt = (fs, act) => { try { act(fs); return 'allowed' } catch (error) { return 'blocked ' + error.code } }
Promise.all([import('node:fs'), import('node:readline'), import('./answer.js')]).then(([fs, readline, { answer }]) => {
  const methods = {
    '$/hello': () => ({ protocol: 1, id: process.env.POLYPLUG_PLUGIN_ID, methods: ['scope'], encodings: ['json'], token: process.env.POLYPLUG_TOKEN }),
    '$/activate': () => ({}),
    '$/ping': () => ({}),
    '$/shutdown': () => { setImmediate(() => process.exit(0)); return {} },
    scope: () => ({
      moduleType,
      answer,
      packageJson: attempt(fs, (f) => f.readFileSync(process.env.APP_DIR + '/package.json')),
      sibling: attempt(fs, (f) => f.readFileSync(process.env.APP_DIR + '/secret.txt')),
      folder: attempt(fs, (f) => f.readdirSync(process.env.APP_DIR)),
    }),
  }
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const message = JSON.parse(line)
    if (message.id === undefined) return
    const method = methods[message.method]
    const reply = method ? { result: method() } : { error: { code: -32601, message: 'no method ' + message.method } }
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, ...reply }) + '\\n')
  })
})
`

interface Scope {
  moduleType: string
  answer: number
  packageJson: string
  sibling: string
  folder: string
}

/** app/package.json and app/secret.txt, and two plugins in app/plugins/, neither with a package.json. */
function writeApplication(root: string): { app: string; plugins: string } {
  const app = join(root, 'app')
  const plugins = join(app, 'plugins')
  mkdirSync(app, { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  writeFileSync(join(app, 'secret.txt'), 'not for plugins')
  const exec = join(plugins, 'node-sidecar')
  mkdirSync(exec, { recursive: true })
  writeFileSync(join(exec, 'plugin.js'), sidecar)
  writeFileSync(join(exec, 'answer.js'), 'export const answer = 42\n')
  const manifest = {
    id: 'node-sidecar',
    version: '1.0.0',
    kind: 'exec',
    entry: 'plugin.js',
    placement: 'process',
    transport: 'stdio',
    // The Node running this test: under `npm run test:node -- 24`, Node 24.
    sidecar: { command: [process.execPath, 'plugin.js'], framing: 'ndjson' },
    permissions: { env: ['APP_DIR'] },
  }
  writeFileSync(join(exec, 'polyplug.json'), JSON.stringify(manifest, null, 2))
  const carrier = join(plugins, 'node-carrier')
  mkdirSync(carrier, { recursive: true })
  writeFileSync(join(carrier, 'plugin.js'), "import { answer } from './answer.js'\nexport default { methods: { answer: () => answer } }\n")
  writeFileSync(join(carrier, 'answer.js'), 'export const answer = 42\n')
  writeFileSync(join(carrier, 'polyplug.json'), JSON.stringify({ id: 'node-carrier', version: '1.0.0', kind: 'js', entry: 'plugin.js', placement: 'process', transport: 'stdio' }, null, 2))
  return { app, plugins }
}

describe('the sandbox grants the package.json above a plugin folder, the file only', () => {
  let root: string
  let app: string
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'package-scope-'))
    app = writeApplication(root).app
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  it('the nearest package.json above the folder is the one Node reads', () => {
    assert.equal(packageScopeFile(join(app, 'plugins', 'node-sidecar')), join(app, 'package.json'))
    assert.equal(packageScopeFile(join(app, 'plugins', 'node-sidecar', 'plugin.js')), join(app, 'package.json'))
    assert.equal(packageScopeFile(app), join(app, 'package.json'))
  })

  it('none is looked for past a node_modules folder, nor for a path that does not exist', () => {
    const dependency = join(app, 'node_modules', 'dep')
    mkdirSync(dependency, { recursive: true })
    assert.equal(packageScopeFile(dependency), undefined)
    assert.equal(packageScopeFile(join(app, 'missing')), undefined)
  })

  it('the launcher is told to read that file, and not the folder holding it', () => {
    const dir = join(app, 'plugins', 'node-sidecar')
    const manifest = { id: 'node-sidecar', version: '1.0.0', kind: 'exec', entry: 'plugin.js', placement: 'process' } as unknown as Manifest
    const command = sandboxCommand({ manifest, dir, cwd: root, argv: [process.execPath, join(dir, 'plugin.js')] })
    const reads = command.flatMap((arg, i) => (command[i - 1] === '--read' ? [arg] : []))
    assert.ok(reads.includes(join(app, 'package.json')), reads.join(' '))
    assert.ok(!reads.includes(app) && !reads.includes(join(app, 'plugins')), reads.join(' '))
  })
})

describe(`Node plugins without a package.json start confined under this Node (${process.version})`, { skip: landlockAbi() < 1 ? 'needs the sandbox launcher and Landlock (Linux)' : false }, () => {
  let root: string
  let app: string
  let host: Host
  let appDir: string | undefined
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'package-scope-'))
    const written = writeApplication(root)
    app = written.app
    appDir = process.env.APP_DIR
    process.env.APP_DIR = app
    host = await createHost({ plugins: [written.plugins], logger: silentLogger })
  })
  after(async () => {
    await host?.close()
    if (appDir === undefined) delete process.env.APP_DIR
    else process.env.APP_DIR = appDir
    rmSync(root, { recursive: true, force: true })
  })

  it('a Node sidecar (exec) starts, and its code is an ES module as the application’s package.json says', async () => {
    const scope = await host.plugin('node-sidecar').call<Scope>('scope')
    assert.equal(scope.answer, 42)
    assert.equal(scope.moduleType, 'module')
    assert.equal(scope.packageJson, 'allowed')
  })

  it('the grant is that file only: the application folder and its other files stay unreadable', async () => {
    const scope = await host.plugin('node-sidecar').call<Scope>('scope')
    assert.equal(scope.sibling, 'blocked EACCES')
    assert.equal(scope.folder, 'blocked EACCES')
  })

  it('a js plugin in the Node process carrier starts', async () => {
    assert.equal(await host.plugin('node-carrier').call('answer'), 42)
  })
})
