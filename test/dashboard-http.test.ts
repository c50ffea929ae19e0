/** The dashboard's HTTP side: the snapshot, live events, token-checked actions, and /metrics as Prometheus parses it. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import type { Dashboard } from '../src/dashboard/server.js'
import { createHost, type Host } from '../src/host/host.js'
import { LATENCY_BUCKETS_MS } from '../src/host/stats.js'
import { examplesDir, root } from './support/paths.js'
import { requires, tools } from './support/requires.js'

interface Family { name: string; type: string; samples: { name: string; labels: Record<string, string>; value: number }[] }

/** The official Prometheus Python client's parser reads the text: what Prometheus itself would accept. */
function parseWithOracle(text: string): Family[] {
  return JSON.parse(execFileSync('/usr/bin/python3', [`${root}test/support/prometheus-parse.py`], { input: text, encoding: 'utf8' })) as Family[]
}

interface Row { id: string; status: string; calls: number; logs: { message: string }[] }

describe('dashboard over HTTP', () => {
  let host: Host
  let dashboard: Dashboard
  before(async () => {
    host = await createHost({ plugins: [examplesDir], logger: () => {} })
    dashboard = await host.serveDashboard({ intervalMs: 100 })
  })
  after(() => host.close())

  /** `token` null sends no Authorization header. */
  const post = (id: string, action: string, body: unknown = {}, token: string | null = dashboard.token) =>
    fetch(`${dashboard.url}api/plugins/${id}/${action}`, { method: 'POST', headers: token === null ? {} : { authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
  const rows = async () => ((await (await fetch(`${dashboard.url}api/plugins`)).json()) as { plugins: Row[] }).plugins
  const row = async (id: string) => (await rows()).find((r) => r.id === id)!

  it('binds to loopback by default and serves the page and its script from the host', async () => {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await (await fetch(dashboard.url)).text()
    assert.match(page, /<script type="module" src="\/app.js">/)
    assert.doesNotMatch(page, /https?:\/\//, 'nothing is loaded from elsewhere')
    const script = await fetch(`${dashboard.url}app.js`)
    assert.equal(script.status, 200)
    assert.match(await script.text(), /EventSource/)
  })

  it('refuses every action without the token, or with a wrong one, and logs the refusal', async () => {
    for (const token of [null, 'wrong']) {
      const refused = await post('echo-worker', 'activate', {}, token)
      assert.equal(refused.status, 401)
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'PERMISSION_DENIED')
    }
    assert.equal((await row('echo-worker')).status, 'inactive', 'nothing happened')
    assert.ok(host.logs('echo-worker').some((r) => r.message.includes('refused "activate"') && r.level === 'warn'))
  })

  it('runs actions with the token: call with JSON arguments, stop, restart, disable and enable; each is logged', async () => {
    const called = await post('echo-worker', 'call', { method: 'add', args: [40, 2] })
    assert.deepEqual(await called.json(), { ok: true, result: 42 })
    assert.equal((await post('echo-worker', 'stop')).status, 200)
    assert.equal((await row('echo-worker')).status, 'inactive')
    assert.equal((await post('echo-worker', 'restart')).status, 200)
    assert.equal((await row('echo-worker')).status, 'active')
    await post('echo-worker', 'disable')
    assert.equal((await row('echo-worker')).status, 'disabled')
    const refused = await post('echo-worker', 'call', { method: 'echo', args: [1] })
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'PLUGIN_DISABLED')
    await post('echo-worker', 'enable')
    const bad = await post('echo-worker', 'call', { method: 'add', args: 'not an array' })
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_PARAMS')
    const logged = host.logs('echo-worker').map((r) => r.message)
    for (const action of ['call add', 'stop', 'restart', 'disable', 'enable']) assert.ok(logged.some((m) => m.startsWith(`dashboard: ${action}`)), action)
  })

  it('streams snapshots as server-sent events: a call made elsewhere shows up without asking', async () => {
    const controller = new AbortController()
    const response = await fetch(`${dashboard.url}events`, { signal: controller.signal })
    assert.equal(response.headers.get('content-type'), 'text/event-stream')
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    const nextSnapshot = async (): Promise<Row[]> => {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end >= 0) {
          const event = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = /^event: snapshot\ndata: (.*)$/s.exec(event)
          if (data) return (JSON.parse(data[1]!) as { plugins: Row[] }).plugins
          continue
        }
        const { value, done } = await reader.read()
        if (done) throw new Error('event stream ended')
        buffer += value
      }
    }
    const before = (await nextSnapshot()).find((r) => r.id === 'echo-inline')!.calls
    await host.plugin('echo-inline').call('echo', ['from elsewhere'])
    let calls = before
    while (calls === before) calls = (await nextSnapshot()).find((r) => r.id === 'echo-inline')!.calls
    assert.equal(calls, before + 1)
    controller.abort()
  })

  it('serves /metrics that the Prometheus client\'s own parser reads: calls, errors by code, latency histogram, restarts, state, memory', { skip: requires(tools.promParser) }, async () => {
    const p = host.plugin('echo-process-unix')
    await p.call('echo', [1])
    await p.call('echo', [2])
    await assert.rejects(p.call('fail', ['E_METRIC']))
    const response = await fetch(`${dashboard.url}metrics`)
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const families = parseWithOracle(await response.text())
    const type = (name: string) => families.find((f) => f.name === name)?.type
    const value = (sample: string, labels: Record<string, string>) =>
      families.flatMap((f) => f.samples).find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
    const echo = { plugin: 'echo-process-unix', method: 'echo' }
    assert.equal(type('polyplug_plugin_calls'), 'counter')
    assert.equal(value('polyplug_plugin_calls_total', echo), 2)
    assert.equal(value('polyplug_plugin_errors_total', { plugin: 'echo-process-unix', method: 'fail', code: 'E_METRIC' }), 1)
    assert.equal(type('polyplug_plugin_call_duration_seconds'), 'histogram')
    assert.equal(value('polyplug_plugin_call_duration_seconds_count', echo), 2)
    assert.equal(value('polyplug_plugin_call_duration_seconds_bucket', { ...echo, le: '+Inf' }), 2)
    const buckets = families.find((f) => f.name === 'polyplug_plugin_call_duration_seconds')!.samples
      .filter((s) => s.name.endsWith('_bucket') && s.labels.plugin === echo.plugin && s.labels.method === 'echo')
    assert.equal(buckets.length, LATENCY_BUCKETS_MS.length + 1)
    assert.deepEqual(buckets.map((b) => b.value), buckets.map((b) => b.value).sort((a, b) => a - b), 'buckets are cumulative')
    assert.ok((value('polyplug_plugin_call_duration_seconds_sum', echo) ?? 0) > 0)
    assert.equal(value('polyplug_plugin_state', { plugin: 'echo-process-unix', state: 'active' }), 1)
    assert.equal(value('polyplug_plugin_state', { plugin: 'echo-process-unix', state: 'inactive' }), 0)
    assert.equal(typeof value('polyplug_plugin_restarts_total', { plugin: 'echo-process-unix' }), 'number')
    assert.ok((value('polyplug_plugin_memory_bytes', { plugin: 'echo-process-unix', type: 'rss' }) ?? 0) > 1_000_000)
  })

  it('closes with the host: the port stops answering', async () => {
    const other = await createHost({ plugins: [examplesDir], logger: () => {} })
    const d = await other.serveDashboard()
    assert.equal((await fetch(`${d.url}api/plugins`)).status, 200)
    await other.close()
    await assert.rejects(fetch(`${d.url}api/plugins`))
  })
})
