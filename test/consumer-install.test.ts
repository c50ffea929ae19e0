/**
 * polyplug installed the way another application installs it: the packed tarball, `npm install`
 * in a fresh folder with no C compiler (CC=false, CXX=false), a small TypeScript consumer that
 * type-checks under `strict`, and plugins kept in a folder outside the application — inline JS
 * (in each placement), TypeScript and a Python sidecar made with `polyplug kit python` — which
 * import `polyplug/sdk` and get the host's copy. Needs the npm registry (as any `npm install`).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { root } from './support/paths.js'
import { requires, tools } from './support/requires.js'

const run = promisify(execFile)

/** The environment of a fresh shell: none of the npm_* variables `npm test` sets, and no compiler. */
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_'))),
  CC: 'false',
  CXX: 'false',
  POLYPLUG_TS_CACHE: 'off',
}

const greet = (where: string) => `definePlugin({ methods: { greet: (name) => \`hello \${name} from ${where}\` } })`

describe('npm install polyplug in another application', { skip: requires(tools.python3) }, () => {
  let work: string
  let app: string
  let plugins: string
  let install: { stdout: string; stderr: string }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'polyplug-consumer-'))
    app = join(work, 'app')
    plugins = join(work, 'elsewhere', 'plugins')
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, env, maxBuffer: 64 << 20 })
    const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename)
    await mkdir(app, { recursive: true })
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }))
    install = await run('npm', ['install', '--no-audit', '--no-fund', tarball, 'typescript@5', '@types/node@20'], { cwd: app, env, maxBuffer: 64 << 20 })

    for (const placement of ['inline', 'worker', 'process']) {
      const dir = join(plugins, `js-${placement}`)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id: `js-${placement}`, version: '1.0.0', kind: 'js', entry: 'index.js', placement }))
      await writeFile(join(dir, 'index.js'), `import { definePlugin } from 'polyplug/sdk'\nexport default ${greet(`js ${placement}`)}\n`)
    }
    await mkdir(join(plugins, 'ts'), { recursive: true })
    await writeFile(join(plugins, 'ts', 'polyplug.json'), JSON.stringify({ id: 'ts', version: '1.0.0', kind: 'js', entry: 'index.ts', placement: 'inline' }))
    await writeFile(
      join(plugins, 'ts', 'index.ts'),
      `import { definePlugin } from 'polyplug/sdk'\nconst who: string = 'ts'\nexport default definePlugin({ methods: { greet: (name: string) => \`hello \${name} from \${who}\` } })\n`,
    )
    const py = join(plugins, 'py')
    await run(join(app, 'node_modules/.bin/polyplug'), ['kit', 'python', py], { cwd: app, env })
    await writeFile(join(py, 'polyplug.json'), JSON.stringify({ id: 'py', version: '1.0.0', kind: 'exec', entry: 'plugin.py', placement: 'process', transport: 'stdio', sidecar: { command: ['python3', 'plugin.py'] } }))
    await writeFile(join(py, 'plugin.py'), 'import polyplug\nplugin = polyplug.Plugin()\n\n@plugin.method\ndef greet(name):\n    return "hello %s from py" % name\n\nif __name__ == "__main__":\n    plugin.run()\n')

    await writeFile(
      join(app, 'main.ts'),
      [
        "import { createHost, type PluginInfo } from 'polyplug'",
        'const host = await createHost({ plugins: [process.argv[2] ?? ""] })',
        'const answers: Record<string, string> = {}',
        'const infos: PluginInfo[] = host.list()',
        "for (const info of infos) answers[info.id] = await host.plugin(info.id).call('greet', ['app']) as string",
        'await host.close()',
        'process.stdout.write(JSON.stringify(answers))',
        '',
      ].join('\n'),
    )
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], noEmitOnError: true }, files: ['main.ts'] }),
    )
  })
  after(() => rm(work, { recursive: true, force: true }))

  it('installs from the registry alone with no compiler, and no npm warning from polyplug\'s own config or scripts', async () => {
    // npm 11 warns, one line per package, about every install script the application's allowScripts
    // does not cover (and about a tarball's `prepare`); polyplug has none, so no warning names it.
    const warnings = install.stderr.split('\n').filter((line) => /^npm (warn|WARN)/.test(line))
    assert.deepEqual(warnings.filter((line) => /\bpolyplug\b|Unknown (project|env|user|builtin) config/.test(line)), [], install.stderr)
    const manifest = JSON.parse(await readFile(join(app, 'node_modules/polyplug/package.json'), 'utf8')) as { scripts?: Record<string, string> }
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(manifest.scripts?.[script], undefined, `polyplug has a ${script} script`)
    assert.ok(existsSync(join(app, 'node_modules/polyplug/dist/src/index.js')))
  })

  it('installs none of the optional packages an inline-JS application does not need', async () => {
    const installed = await readdir(join(app, 'node_modules'))
    for (const optional of ['koffi', 'better-sqlite3', 'mqtt', 'aedes', 'prebuild-install']) assert.ok(!installed.includes(optional), `${optional} was installed`)
  })

  it('ships the kits, the schema and the docs', () => {
    for (const file of ['kits/python/polyplug.py', 'kits/c/include/polyplug.h', 'kits/c-sidecar/polyplug.c', 'kits/rust-sidecar/src/lib.rs', 'kits/assemblyscript/polyplug.ts', 'schema/polyplug.schema.json', 'docs/host.md']) {
      assert.ok(existsSync(join(app, 'node_modules/polyplug', file)), `${file} is missing`)
    }
    assert.ok(!existsSync(join(app, 'node_modules/polyplug/kits/python/__pycache__')))
  })

  it('a strict TypeScript consumer type-checks and calls JS (inline, worker, process), TS and Python plugins from outside the app', async () => {
    await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, env })
    const { stdout } = await run(process.execPath, ['main.js', plugins], { cwd: app, env })
    assert.deepEqual(JSON.parse(stdout), {
      'js-inline': 'hello app from js inline',
      'js-worker': 'hello app from js worker',
      'js-process': 'hello app from js process',
      ts: 'hello app from ts',
      py: 'hello app from py',
    })
  })

  it('npx polyplug --version and help print without npm warnings', async () => {
    const version = await run('npx', ['polyplug', '--version'], { cwd: app, env })
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
    assert.equal(version.stderr, '')
    const help = await run('npx', ['polyplug', 'help'], { cwd: app, env })
    assert.match(help.stdout, /polyplug kit NAME DIR/)
    assert.equal(help.stderr, '')
  })

  it('where the shipped shm addon does not load, a shm plugin fails naming the script that builds it, and that script builds it', { skip: requires(tools.gcc, tools.nodeHeaders) }, async () => {
    const shmPlugins = join(work, 'shm-plugins')
    await mkdir(join(shmPlugins, 'js-shm'), { recursive: true })
    await writeFile(join(shmPlugins, 'js-shm', 'polyplug.json'), JSON.stringify({ id: 'js-shm', version: '1.0.0', kind: 'js', entry: 'index.js', placement: 'process', transport: 'shm' }))
    await writeFile(join(shmPlugins, 'js-shm', 'index.js'), `import { definePlugin } from 'polyplug/sdk'\nexport default ${greet('js shm')}\n`)
    await writeFile(
      join(app, 'shm.js'),
      [
        "import { createHost } from 'polyplug'",
        'const host = await createHost({ plugins: [process.argv[2]] })',
        "const answer = await host.plugin('js-shm').call('greet', ['app']).catch((error) => ({ code: error.code, message: error.message }))",
        'await host.close()',
        'process.stdout.write(JSON.stringify(answer))',
        '',
      ].join('\n'),
    )
    const callShm = async (): Promise<unknown> => JSON.parse((await run(process.execPath, ['shm.js', shmPlugins], { cwd: app, env })).stdout)
    // What the packed linux build is on another platform: a file that is there but does not load.
    await writeFile(join(app, 'node_modules/polyplug/dist/src/transports/shm/polyplug_shm.node'), 'not a shared object\n')
    const script = join(app, 'node_modules/polyplug/scripts/shm-addon.mjs')
    const failed = (await callShm()) as { code: string; message: string }
    assert.equal(failed.code, 'TRANSPORT_UNAVAILABLE', failed.message)
    assert.ok(failed.message.includes(`node ${script}`), failed.message)

    const withoutCompiler = (await run(process.execPath, [script], { cwd: app, env }).then(
      () => assert.fail('the build script succeeded with CC=false'),
      (error: unknown) => error,
    )) as { code: number; stderr: string }
    assert.equal(withoutCompiler.code, 1)
    assert.match(withoutCompiler.stderr, /could not be built here .*Install a C compiler/)
    const { CC: _cc, CXX: _cxx, ...withCompiler } = env
    assert.match((await run(process.execPath, [script], { cwd: app, env: withCompiler })).stdout, /built the shm addon/)
    assert.equal(await callShm(), 'hello app from js shm')
  })
})
