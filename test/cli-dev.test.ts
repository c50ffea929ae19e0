/**
 * `polyplug dev DIR`, driven as an author would: the process is started on a plugin with a declared
 * build, calls are typed on its stdin, a source file is changed, and the rebuild, the reload and
 * the new answer are waited for on its output.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CliProcess } from './support/cli-process.js'

const cleanup: Array<() => unknown> = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

// The build turns src/word.txt into plugin.js: the plugin answers greet(name) with "WORD, name"
// and says on stderr which word it started with.
const buildScript = `import { readFileSync, writeFileSync } from 'node:fs'
const word = readFileSync('src/word.txt', 'utf8').trim()
writeFileSync('plugin.js', \`process.stderr.write('greeter starting with \${word}\\\\n')
export default { methods: { greet: (name) => '\${word}, ' + name } }
\`)
`

async function greeterDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'polyplug-dev-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'src'))
  await writeFile(join(dir, 'src', 'word.txt'), 'hello\n')
  await writeFile(join(dir, 'build.mjs'), buildScript)
  await writeFile(
    join(dir, 'polyplug.json'),
    JSON.stringify({ id: 'dev-greeter', version: '1.0.0', kind: 'js', entry: 'plugin.js', placement: 'process', build: { command: [process.execPath, 'build.mjs'], inputs: ['src'], outputs: ['plugin.js'] } }),
  )
  return dir
}

describe('polyplug dev', () => {
  it('builds, starts, streams the plugin stderr, answers typed calls, and after a source change rebuilds, reloads and answers anew', async () => {
    const dir = await greeterDir()
    const dev = new CliProcess(['dev', dir])
    cleanup.push(() => dev.kill())
    await dev.waitFor('stderr', /\[dev\] dev-greeter: building with .*plugin\.js is missing/)
    await dev.waitFor('stderr', /\[dev-greeter\] info: greeter starting with hello/)
    let mark = await dev.waitFor('stderr', /\[dev\] watching dev-greeter/)

    dev.send('greet ["ann"]')
    const out = await dev.waitFor('stdout', /\{"id":1,"result":"hello, ann"\}\n/)

    // A typed error does not end the session: it is answered as in polyplug session.
    dev.send('shout ["ann"]')
    await dev.waitFor('stdout', /\{"id":2,"error":\{"code":"METHOD_NOT_FOUND"/, out)

    await writeFile(join(dir, 'src', 'word.txt'), 'bonjour\n')
    mark = await dev.waitFor('stderr', /\[dev\] dev-greeter: building with .*sources changed since the last build \(src\)/, mark)
    mark = await dev.waitFor('stderr', /\[dev-greeter\] info: greeter starting with bonjour/, mark)
    await dev.waitFor('stderr', /\[dev\] dev-greeter: reloaded in \d+ ms \(src.word\.txt changed\)/, mark)

    // The session's own JSON lines work as well.
    dev.send('{"id": "b", "method": "greet", "params": ["bob"]}')
    await dev.waitFor('stdout', /\{"id":"b","result":"bonjour, bob"\}\n/, out)

    dev.child.stdin.end()
    // As in polyplug session: exit 1 because one line (shout) failed.
    assert.equal(await dev.exited, 1, dev.stderr)
    // One reload for one change: the build writing plugin.js did not set off another.
    assert.equal(dev.stderr.match(/reloaded in/g)?.length, 1, dev.stderr)
  })

  it('a line that cannot be parsed is reported and the session goes on', async () => {
    const dir = await greeterDir()
    const dev = new CliProcess(['dev', '--quiet', dir])
    cleanup.push(() => dev.kill())
    dev.send('greet ["unterminated')
    await dev.waitFor('stdout', /\{"error":\{"code":"INVALID_REQUEST","message":"PARAMS_JSON is not valid JSON/)
    dev.send('greet ["cy"]')
    await dev.waitFor('stdout', /"result":"hello, cy"\}\n/)
    dev.child.stdin.end()
    assert.equal(await dev.exited, 1)
    // --quiet: no [dev] status lines and no plugin stderr, only results and errors.
    assert.doesNotMatch(dev.stderr, /\[dev\]|greeter starting/)
  })

  it('usage: dev without DIR exits 2', async () => {
    const dev = new CliProcess(['dev'])
    assert.equal(await dev.exited, 2)
    assert.match(dev.stderr, /dev needs one DIR/)
  })
})
