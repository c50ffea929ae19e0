// `npm run test:node -- 22 [TEST_FILES...]`: runs the test suite (or the given dist/test files) with
// another Node major version, fetched from the npm registry as Node's own binary package
// (node-<platform>-<arch>@<major>, the package `node@<major>` installs) into node_modules/.cache.
// Build first (`npm run build`): the tests run from dist/. The shm addon is Node-API, one build
// for every version; the state store uses node:sqlite from Node 22.13, better-sqlite3 only on 20.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [major, ...files] = process.argv.slice(2)
if (!major || !/^\d+$/.test(major)) {
  process.stderr.write('usage: npm run test:node -- MAJOR [dist/test/FILE.test.js...]   (e.g. 20, 22, 24)\n')
  process.exit(2)
}
const pkg = `node-${process.platform}-${process.arch}`
const prefix = join(root, 'node_modules/.cache/polyplug-node', major)
const node = join(prefix, 'node_modules', pkg, 'bin', 'node')
if (!existsSync(node)) {
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${major}`], { stdio: 'inherit' })
}
const tests = files.length ? files : readdirSync(join(root, 'dist/test')).filter((f) => f.endsWith('.test.js')).map((f) => join('dist/test', f))
process.stdout.write(`node ${execFileSync(node, ['--version']).toString().trim()} (${node})\n`)
try {
  // The suite starts Node children with process.execPath; PATH puts this node first for any `node` it runs by name.
  execFileSync(node, ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-force-exit', ...tests], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  })
} catch (error) {
  process.exit(error.status ?? 1)
}
