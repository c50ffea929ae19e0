/**
 * Plugin packages (docs/packaging.md): pack a folder, install it into a plugins folder, and
 * refuse — leaving the folder as it was — anything altered, unsafe or conflicting.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import * as tar from 'tar'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { generateSigningKeys, installPackage, packPlugin, uninstallPlugin } from '../src/package/index.js'
import { rejectsWithCode } from './support/assert-code.js'
import { writeGreeter } from './support/greeter.js'
import { cliPath as cli, examplesDir } from './support/paths.js'

const run = promisify(execFile)

let work: string
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'polyplug-package-'))
})
after(() => rm(work, { recursive: true, force: true }))

function greeter(version: string, word: string, id = 'greet'): Promise<string> {
  return writeGreeter(work, { id, version, word })
}

async function freshPluginsDir(): Promise<string> {
  const dir = await mkdtemp(join(work, 'plugins-'))
  return dir
}

async function greet(pluginsDir: string): Promise<unknown> {
  const host = await createHost({ plugins: [pluginsDir], logger: silentLogger })
  try {
    return await host.plugin('greet').call('greet', ['you'])
  } finally {
    await host.close()
  }
}

/** A gzip'd tar built entry by entry with tar's own Header, for archives `pack` would never make. */
function craftArchive(entries: { path: string; type?: 'File' | 'SymbolicLink' | 'Link'; body?: string; linkpath?: string }[]): Buffer {
  const blocks: Buffer[] = []
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '')
    const header = Buffer.alloc(512)
    new tar.Header({ path: entry.path, mode: 0o644, size: body.length, type: entry.type ?? 'File', mtime: new Date(0), linkpath: entry.linkpath ?? '' }).encode(header, 0)
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return gzipSync(Buffer.concat(blocks))
}

async function unpackRepack(file: string, change: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(work, 'repack-'))
  await tar.x({ file, cwd: dir })
  await change(dir)
  const out = `${dir}.tgz`
  await tar.c({ gzip: true, file: out, cwd: dir, portable: true }, await readdir(dir))
  return out
}

/** Everything under `dir`, hidden entries included: an install that fails must leave it unchanged. */
async function snapshot(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort()
}

/** The file names in a packed archive, but the package's own metadata. */
function gunzipList(archive: Buffer): string {
  const names: string[] = []
  new tar.Parser({ onReadEntry: (entry) => { if (entry.path !== '.polyplug-package.json') names.push(entry.path); entry.resume() } }).end(archive)
  return JSON.stringify(names.sort())
}

describe('plugin packages', () => {
  it('packs a plugin folder and installs it where a host finds and runs it', async () => {
    const packed = await packPlugin(await greeter('1.0.0', 'hello'), { out: work })
    assert.equal(packed.file, join(work, 'greet-1.0.0.polyplug.tgz'))
    assert.equal(packed.files, 3)
    const plugins = await freshPluginsDir()
    const installed = await installPackage(packed.file, plugins)
    assert.deepEqual(installed, { id: 'greet', version: '1.0.0', dir: join(plugins, 'greet') })
    assert.equal(await greet(plugins), 'hello, you')
    // The digests travel with the plugin.
    const meta = JSON.parse(await readFile(join(plugins, 'greet', '.polyplug-package.json'), 'utf8')) as { files: Record<string, unknown> }
    assert.deepEqual(Object.keys(meta.files), ['index.js', 'lib/word.js', 'polyplug.json'])
  })

  it('leaves out Python byte code, build intermediates and what .polyplugignore names, never the entry', async () => {
    const dir = await greeter('1.0.0', 'ignore')
    await mkdir(join(dir, '__pycache__'), { recursive: true })
    await writeFile(join(dir, '__pycache__', 'x.cpython-311.pyc'), 'bytecode')
    await mkdir(join(dir, 'target', 'debug'), { recursive: true })
    await writeFile(join(dir, 'target', 'debug', 'big'), 'build output')
    await writeFile(join(dir, 'notes.tmp'), 'scratch')
    await writeFile(join(dir, '.polyplugignore'), '*.tmp\nindex.js\n')
    const packed = await packPlugin(dir, { out: await mkdtemp(join(work, 'ignored-')) })
    const meta = JSON.parse(gunzipList(await readFile(packed.file))) as string[]
    assert.deepEqual(meta, ['.polyplugignore', 'index.js', 'lib/word.js', 'polyplug.json'])
  })

  it('upgrades to a newer version, refuses the same or an older one unless forced', async () => {
    const plugins = await freshPluginsDir()
    const v1 = await packPlugin(await greeter('1.0.0', 'hello'), { out: work })
    const v2 = await packPlugin(await greeter('1.1.0', 'howdy'), { out: work })
    await installPackage(v2.file, plugins)
    const before = await snapshot(plugins)
    const error = await rejectsWithCode(installPackage(v1.file, plugins), 'PACKAGE_CONFLICT')
    assert.deepEqual(error.data, { installed: '1.1.0', package: '1.0.0' })
    await rejectsWithCode(installPackage(v2.file, plugins), 'PACKAGE_CONFLICT')
    assert.deepEqual(await snapshot(plugins), before)
    assert.equal(await greet(plugins), 'howdy, you')
    assert.equal((await installPackage(v1.file, plugins, { force: true })).replaced, '1.1.0')
    assert.equal(await greet(plugins), 'hello, you')
    assert.equal((await installPackage(v2.file, plugins)).replaced, '1.0.0')
    assert.equal(await greet(plugins), 'howdy, you')
    assert.deepEqual(await readdir(plugins), ['greet'])
  })

  it('never replaces a folder that holds another plugin', async () => {
    const plugins = await freshPluginsDir()
    await mkdir(join(plugins, 'greet'))
    await writeFile(join(plugins, 'greet', 'polyplug.json'), JSON.stringify({ id: 'someone-else', version: '9.0.0', kind: 'js', entry: 'x.js' }))
    const packed = await packPlugin(await greeter('1.0.0', 'hello'), { out: work })
    await rejectsWithCode(installPackage(packed.file, plugins, { force: true }), 'PACKAGE_CONFLICT')
  })

  describe('refuses, and leaves the plugins folder as it was', () => {
    let plugins: string
    let original: string
    let initial: string[]
    before(async () => {
      plugins = await freshPluginsDir()
      original = (await packPlugin(await greeter('1.0.0', 'hello'), { out: work })).file
      await installPackage((await packPlugin(await greeter('0.9.0', 'old'), { out: work })).file, plugins)
      initial = await snapshot(plugins)
    })
    const refuses = async (file: string, code = 'PACKAGE_INVALID') => {
      const error = await rejectsWithCode(installPackage(file, plugins, { force: true }), code)
      assert.deepEqual(await snapshot(plugins), initial)
      assert.equal(await greet(plugins), 'old, you')
      return error
    }

    it('a file changed after packing', async () => {
      const error = await refuses(await unpackRepack(original, (dir) => writeFile(join(dir, 'lib', 'word.js'), 'export const word = "pwned"\n')))
      assert.deepEqual(error.data, { path: 'lib/word.js' })
    })

    it('a file added after packing, or one removed', async () => {
      const added = await refuses(await unpackRepack(original, (dir) => writeFile(join(dir, 'extra.js'), '')))
      assert.deepEqual(added.data, { extra: ['extra.js'], missing: [] })
      const removed = await refuses(await unpackRepack(original, (dir) => rm(join(dir, 'lib', 'word.js'))))
      assert.deepEqual(removed.data, { extra: [], missing: ['lib/word.js'] })
    })

    it('paths that climb out of the folder or are absolute; nothing is written outside it', async () => {
      for (const path of ['../escaped.js', 'lib/../../escaped.js', '/tmp/escaped-absolute.js']) {
        const file = join(work, 'climb.tgz')
        await writeFile(file, craftArchive([{ path, body: 'boom' }, { path: 'polyplug.json', body: '{}' }]))
        const error = await refuses(file)
        assert.deepEqual(error.data, { path })
      }
      assert.equal(existsSync(join(work, 'escaped.js')), false)
      assert.equal(existsSync('/tmp/escaped-absolute.js'), false)
    })

    it('symbolic and hard links', async () => {
      for (const type of ['SymbolicLink', 'Link'] as const) {
        const file = join(work, `${type}.tgz`)
        await writeFile(file, craftArchive([{ path: 'index.js', type, linkpath: '/etc/passwd' }]))
        await refuses(file)
      }
    })

    it('a file that is not a package at all, or a package without its metadata', async () => {
      const garbage = join(work, 'garbage.tgz')
      await writeFile(garbage, 'this is not a tarball')
      await refuses(garbage)
      const bare = join(work, 'bare.tgz')
      await writeFile(bare, craftArchive([{ path: 'polyplug.json', body: JSON.stringify({ id: 'greet', version: '2.0.0', kind: 'js', entry: 'index.js' }) }, { path: 'index.js', body: '' }]))
      await refuses(bare)
    })

    it('an archive that would unpack past the size limit', async () => {
      await rejectsWithCode(installPackage(original, plugins, { force: true, maxBytes: 100 }), 'PACKAGE_INVALID')
      assert.deepEqual(await snapshot(plugins), initial)
    })
  })

  it('does not pack a plugin whose entry lies outside its folder, or one holding a symbolic link', async () => {
    await rejectsWithCode(packPlugin(join(examplesDir, 'python-tcp'), { out: work }), 'PACKAGE_INVALID')
    const dir = await greeter('1.0.0', 'linked', 'linked')
    await symlink('/etc/hostname', join(dir, 'lib', 'link'))
    const error = await rejectsWithCode(packPlugin(dir, { out: work }), 'PACKAGE_INVALID')
    assert.deepEqual(error.data, { path: 'lib/link' })
  })

  describe('signed packages', () => {
    const publisher = generateSigningKeys()
    const stranger = generateSigningKeys()
    const trustedKeys = [publisher.publicKey]

    it('a host that trusts the publisher installs what the publisher signed', async () => {
      const plugins = await freshPluginsDir()
      const packed = await packPlugin(await greeter('1.0.0', 'signed'), { out: work, signWith: publisher.privateKey })
      assert.equal(packed.keyId, publisher.keyId)
      const installed = await installPackage(packed.file, plugins, { trustedKeys })
      assert.equal(installed.keyId, publisher.keyId)
      assert.equal(await greet(plugins), 'signed, you')
    })

    it('refuses unsigned packages, packages signed by another key, and signed packages altered afterwards', async () => {
      const plugins = await freshPluginsDir()
      const unsigned = await packPlugin(await greeter('1.0.0', 'plain'), { out: work })
      await rejectsWithCode(installPackage(unsigned.file, plugins, { trustedKeys }), 'PACKAGE_UNTRUSTED')
      const foreign = await packPlugin(await greeter('1.0.0', 'foreign'), { out: work, signWith: stranger.privateKey })
      const error = await rejectsWithCode(installPackage(foreign.file, plugins, { trustedKeys }), 'PACKAGE_UNTRUSTED')
      assert.deepEqual(error.data, { keyId: stranger.keyId })
      // Re-listing a changed file's digest keeps the package consistent, but no longer what was signed.
      const signed = await packPlugin(await greeter('1.0.0', 'honest'), { out: work, signWith: publisher.privateKey })
      const forged = await unpackRepack(signed.file, async (dir) => {
        await writeFile(join(dir, 'lib', 'word.js'), 'export const word = "forged"\n')
        const meta = JSON.parse(await readFile(join(dir, '.polyplug-package.json'), 'utf8')) as { files: Record<string, { size: number; sha256: string }> }
        const body = await readFile(join(dir, 'lib', 'word.js'))
        meta.files['lib/word.js'] = { size: body.length, sha256: createHash('sha256').update(body).digest('hex') }
        await writeFile(join(dir, '.polyplug-package.json'), JSON.stringify(meta))
      })
      assert.equal((await installPackage(forged, await freshPluginsDir())).id, 'greet', 'without trusted keys only integrity is checked')
      await rejectsWithCode(installPackage(forged, plugins, { trustedKeys }), 'PACKAGE_UNTRUSTED')
      assert.deepEqual(await readdir(plugins), [])
    })

    it('from the command line: keygen, pack --sign, install --trust', async () => {
      const keys = join(work, 'cli-keys')
      const made = JSON.parse((await run(process.execPath, [cli, 'keygen', keys, '--json'])).stdout) as { keyId: string; privateKey: string; publicKey: string }
      const packed = JSON.parse((await run(process.execPath, [cli, 'pack', await greeter('1.0.0', 'cli'), '--out', work, '--sign', made.privateKey, '--json'])).stdout) as { file: string; keyId: string }
      assert.equal(packed.keyId, made.keyId)
      const plugins = await freshPluginsDir()
      assert.match((await run(process.execPath, [cli, 'install', '--plugins', plugins, '--trust', made.publicKey, packed.file])).stdout, new RegExp(`signed by ${made.keyId}`))
      // keygen never overwrites a key.
      const again = await run(process.execPath, [cli, 'keygen', keys]).then(
        () => assert.fail('keygen must not overwrite a key'),
        (error: { code: number; stderr: string }) => error,
      )
      assert.equal(again.code, 1)
      assert.match(again.stderr, /^INVALID_PARAMS: /)
    })
  })

  it('uninstalls by id, and says so when nothing is installed under it', async () => {
    const plugins = await freshPluginsDir()
    await installPackage((await packPlugin(await greeter('1.0.0', 'hello'), { out: work })).file, plugins)
    assert.equal((await uninstallPlugin('greet', plugins)).version, '1.0.0')
    assert.deepEqual(await readdir(plugins), [])
    await rejectsWithCode(uninstallPlugin('greet', plugins), 'PLUGIN_NOT_FOUND')
    await rejectsWithCode(uninstallPlugin('../plugins-elsewhere', plugins), 'PLUGIN_NOT_FOUND')
  })

  it('works from the command line: pack, install, call, refuse with a code and exit 1, uninstall', async () => {
    const plugins = await freshPluginsDir()
    const source = await greeter('3.0.0', 'hi')
    const packed = JSON.parse((await run(process.execPath, [cli, 'pack', source, '--out', work, '--json'])).stdout) as { file: string }
    assert.match((await run(process.execPath, [cli, 'install', '--plugins', plugins, packed.file])).stdout, /^installed greet@3\.0\.0 /)
    assert.equal((await run(process.execPath, [cli, 'call', '--plugins', plugins, 'greet', 'greet', '["cli"]'])).stdout.trim(), '"hi, cli"')
    const refused = await run(process.execPath, [cli, 'install', '--plugins', plugins, packed.file]).then(
      () => assert.fail('a second install of the same version must fail'),
      (error: { code: number; stderr: string }) => error,
    )
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^PACKAGE_CONFLICT: /)
    assert.match((await run(process.execPath, [cli, 'uninstall', '--plugins', plugins, 'greet'])).stdout, /^uninstalled greet@3\.0\.0/)
  })
})
