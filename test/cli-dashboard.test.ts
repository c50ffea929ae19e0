/** `polyplug dashboard`: serves the page for a plugin folder, prints the URL with its token, and Ctrl-C stops the plugins it started. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'
import { exited } from './support/demo-child.js'
import { cliPath, examplesDir } from './support/paths.js'
import { alive } from './support/process.js'
import { until } from './support/wait.js'

describe('polyplug dashboard', () => {
  it('prints the URL with the token, answers on loopback, refuses actions without the token, and exits 0 on SIGINT with its plugins stopped', async () => {
    const child = spawn(process.execPath, [cliPath, 'dashboard', '--plugins', `${examplesDir}/js-process-stdio`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    try {
      await until(() => /#token=[0-9a-f]{32}/.test(out), 30_000, 'the dashboard URL')
      const [, url, token] = /(http:\/\/127\.0\.0\.1:\d+\/)#token=([0-9a-f]+)/.exec(out)!
      const act = (auth: string) => fetch(`${url}api/plugins/echo-process-stdio/activate`, { method: 'POST', headers: auth ? { authorization: auth } : {} })
      assert.equal((await act('')).status, 401)
      assert.equal((await act(`Bearer ${token}`)).status, 200)
      const rows = ((await (await fetch(`${url}api/plugins`)).json()) as { plugins: { id: string; status: string; pid?: number }[] }).plugins
      assert.equal(rows[0]?.status, 'active')
      const pid = rows[0]!.pid!
      assert.ok(alive(pid))
      child.kill('SIGINT')
      assert.equal(await exited(child), 0, out)
      await until(() => !alive(pid), 10_000, 'the plugin process gone')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
