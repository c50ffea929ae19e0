/** The README's main command: the workbench starts, its features answer, and Ctrl-C leaves nothing behind. */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import { until } from './support/wait.js'
import { exited, startDemo } from './support/demo-child.js'
import { alive } from './support/process.js'
import { root } from './support/paths.js'
import { requires, tools } from './support/requires.js'

/** Every descendant of `pid`, from the process table. */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number])
  const out: number[] = []
  const walk = (parent: number) => {
    for (const [child, ppid] of table) {
      if (ppid !== parent) continue
      out.push(child)
      walk(child)
    }
  }
  walk(pid)
  return out
}

const shmEntries = () => new Set(existsSync('/dev/shm') ? readdirSync('/dev/shm').filter((n) => n.startsWith('polyplug-')) : [])

describe('the workbench demo (npm start)', { skip: requires(tools.python3, tools.gcc) }, () => {
  it('serves its features from plugins of six kinds and placements; Ctrl-C stops every plugin process and removes its temporary files', async () => {
    const shmBefore = shmEntries()
    const demo = await startDemo(['--serve'])
    try {
      const features = (await (await fetch(`${demo.app}api/features`)).json()) as { id: string; plugin: string; example: string }[]
      assert.deepEqual(features.map((f) => f.plugin).sort(), ['csv-summary', 'json-lsp', 'line-tools', 'native-c-process', 'text-stats', 'wasm-c-worker'])
      for (const f of features) {
        const answer = (await (await fetch(`${demo.app}api/run/${f.id}`, { method: 'POST', body: JSON.stringify({ text: f.example }) })).json()) as { error?: unknown; result?: unknown }
        assert.equal(answer.error, undefined, `${f.id}: ${JSON.stringify(answer.error)}`)
      }
      const rows = ((await (await fetch(`${demo.dashboard}api/plugins`)).json()) as { plugins: { id: string; status: string; pid?: number }[] }).plugins
      assert.ok(rows.every((r) => r.status === 'active'), JSON.stringify(rows.map((r) => [r.id, r.status])))
      const pluginPids = rows.flatMap((r) => (r.pid === undefined ? [] : [r.pid]))
      assert.ok(pluginPids.length >= 4, 'the python, mqtt, language-server and native plugins run in processes of their own')
      const children = descendants(demo.child.pid!)
      for (const pid of pluginPids) assert.ok(children.includes(pid), `plugin process ${pid} is the demo's`)
      assert.ok(readdirSync(demo.tmp).length > 0, 'the running plugins use the temporary folder (sockets, FIFOs)')

      demo.child.kill('SIGINT')
      assert.equal(await exited(demo.child), 0, demo.output())
      assert.match(demo.output(), /stopped: every plugin is down/)
      await until(() => children.every((pid) => !alive(pid)), 10_000, 'every plugin process gone after Ctrl-C')
      assert.deepEqual(readdirSync(demo.tmp), [], 'no temporary file or folder is left')
      await until(() => [...shmEntries()].every((n) => shmBefore.has(n)), 5000, 'nothing new left in /dev/shm')
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL')
    }
  })

  it('without a terminal, runs every feature once, prints the results and exits 0', async () => {
    const child = spawn(process.execPath, [`${root}dist/demo/main.js`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    assert.equal(await exited(child), 0, out)
    assert.match(out, /polyplug workbench: http:\/\/127\.0\.0\.1:\d+\//)
    assert.match(out, /6 of 6 features answered/)
    assert.match(out, /"sum":1730\.5/, 'the wasm plugin added the example\'s numbers')
    assert.match(out, /\{"line":"q1 10 20 30","total":60\}/, 'the native plugin totalled each line')
  })
})
