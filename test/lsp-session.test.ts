/**
 * A full editing session with a real language server (vscode-langservers-extracted's JSON server)
 * through the public API only — `host.plugin(id).call / notify / onNotification` — and through the
 * CLI's `session` verb: initialize → initialized → didOpen → documentSymbol / completion /
 * diagnostics pushed by the server → shutdown.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'
import { createHost, type PluginHandle } from '../src/index.js'
import { silentLogger } from '../src/host/log.js'
import { until } from './support/wait.js'
import { cliPath, fixturesDir } from './support/paths.js'
import { alive } from './support/process.js'

const dir = `${fixturesDir}/lsp-json`
const WAIT_MS = 20_000

interface DocumentSymbol {
  name: string
  children?: DocumentSymbol[]
}
interface Diagnostic {
  message: string
  severity?: number
  range: { start: { line: number; character: number } }
}
interface PublishDiagnostics {
  uri: string
  diagnostics: Diagnostic[]
}

const initializeParams = {
  processId: process.pid,
  rootUri: null,
  capabilities: { textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true }, publishDiagnostics: {} } },
}
const good = { uri: 'file:///virtual/good.json', text: '{\n  "name": "polyplug",\n  "nested": { "inner": true }\n}\n' }
const bad = { uri: 'file:///virtual/bad.json', text: '{\n  "a": 1,,\n  "b": 2\n}\n' }
const didOpen = (doc: { uri: string; text: string }) => [{ textDocument: { uri: doc.uri, languageId: 'json', version: 1, text: doc.text } }]

/** Resolves with the first diagnostics the server publishes for `uri`; rejects after WAIT_MS. */
function diagnosticsFor(plugin: PluginHandle, uri: string): Promise<Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dispose()
      reject(new Error(`no diagnostics for ${uri} within ${WAIT_MS} ms`))
    }, WAIT_MS)
    const dispose = plugin.onNotification('textDocument/publishDiagnostics', (params) => {
      const p = params as PublishDiagnostics
      if (p.uri !== uri) return
      clearTimeout(timer)
      dispose()
      resolve(p.diagnostics)
    })
  })
}

describe('a language server session through the public API', () => {
  it('opens documents, gets their symbols and a diagnostic for a syntax error, then shuts the server down', async () => {
    const host = await createHost({ plugins: [dir], logger: silentLogger, startTimeoutMs: WAIT_MS, callTimeoutMs: WAIT_MS })
    const plugin = host.plugin('lsp-json')
    try {
      const published: PublishDiagnostics[] = []
      const disposeAll = plugin.onNotification('textDocument/publishDiagnostics', (p) => published.push(p as PublishDiagnostics))
      const init = await plugin.call<{ capabilities: { documentSymbolProvider?: unknown } }>('initialize', [initializeParams])
      assert.ok(init.capabilities.documentSymbolProvider)
      await plugin.notify('initialized', [{}])

      const goodDiagnostics = diagnosticsFor(plugin, good.uri)
      await plugin.notify('textDocument/didOpen', didOpen(good))
      const symbols = await plugin.call<DocumentSymbol[]>('textDocument/documentSymbol', [{ textDocument: { uri: good.uri } }])
      assert.deepEqual(symbols.map((s) => s.name), ['name', 'nested'])
      assert.deepEqual(symbols[1]?.children?.map((s) => s.name), ['inner'])
      assert.deepEqual(await goodDiagnostics, [], 'a valid document has no diagnostics')

      const badDiagnostics = diagnosticsFor(plugin, bad.uri)
      await plugin.notify('textDocument/didOpen', didOpen(bad))
      const [first, ...rest] = await badDiagnostics
      assert.ok(first, 'the syntax error is reported')
      assert.equal(rest.length, 0)
      assert.equal(first.severity, 1, 'as an error')
      assert.deepEqual(first.range.start, { line: 1, character: 9 }, 'at the second comma')
      assert.match(first.message, /expected/i)

      // Disposing a subscription stops its deliveries; the other subscription still saw everything.
      disposeAll()
      const count = published.length
      assert.deepEqual(published.map((p) => p.uri), [good.uri, bad.uri])
      const again = diagnosticsFor(plugin, bad.uri)
      await plugin.notify('textDocument/didChange', [{ textDocument: { uri: bad.uri, version: 2 }, contentChanges: [{ text: '{ "a": 1 }' }] }])
      assert.deepEqual(await again, [], 'the fixed document has no diagnostics')
      assert.equal(published.length, count)

      const pid = plugin.pid()
      assert.ok(pid !== undefined && alive(pid))
      await plugin.stop() // shutdown request, exit notification
      await until(() => !alive(pid), 5000)
    } finally {
      await host.close()
    }
  })

  it('refuses subscriptions to protocol and host API names', async () => {
    const host = await createHost({ plugins: [dir], logger: silentLogger })
    try {
      const plugin = host.plugin('lsp-json')
      assert.throws(() => plugin.onNotification('$/log', () => {}), { code: 'INVALID_PARAMS' })
      assert.throws(() => plugin.onNotification('host/echo', () => {}), { code: 'INVALID_PARAMS' })
      assert.equal(plugin.info().status, 'inactive', 'subscribing starts nothing')
    } finally {
      await host.close()
    }
  })
})

describe('a language server session through `polyplug session`', () => {
  it('reads calls, notifications and waits from stdin and prints answers and diagnostics as JSON lines', async () => {
    const script = [
      { id: 1, method: 'initialize', params: [initializeParams] },
      { method: 'initialized', params: [{}] },
      { method: 'textDocument/didOpen', params: didOpen(good) },
      { id: 2, method: 'textDocument/documentSymbol', params: [{ textDocument: { uri: good.uri } }] },
      { wait: 'textDocument/publishDiagnostics' },
      { method: 'textDocument/didOpen', params: didOpen(bad) },
      { wait: 'textDocument/publishDiagnostics' },
      { id: 3, method: 'no/such/method', params: [] },
    ]
    const child = spawn(process.execPath, [cliPath, 'session', '--plugins', dir, 'lsp-json', '--on', 'textDocument/publishDiagnostics', '--timeout', String(WAIT_MS)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdin.end(script.map((l) => JSON.stringify(l)).join('\n') + '\n')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const byId = (id: number) => lines.find((l) => l.id === id)
    assert.ok((byId(1)?.result as { capabilities?: unknown } | undefined)?.capabilities, `initialize answered; stderr: ${stderr}`)
    assert.deepEqual((byId(2)?.result as DocumentSymbol[]).map((s) => s.name), ['name', 'nested'])
    const diagnostics = lines.filter((l) => l.notification === 'textDocument/publishDiagnostics').map((l) => l.params as PublishDiagnostics)
    assert.deepEqual(diagnostics.find((d) => d.uri === good.uri)?.diagnostics, [])
    const syntax = diagnostics.find((d) => d.uri === bad.uri)?.diagnostics
    assert.equal(syntax?.length, 1)
    assert.deepEqual(syntax?.[0]?.range.start, { line: 1, character: 9 })
    assert.equal((byId(3)?.error as { code?: string } | undefined)?.code, 'METHOD_NOT_FOUND')
    assert.equal(code, 1, 'a failed line makes the exit code 1')
  })

  it('refuses a line that is not a call, a notification or a wait, bounds each wait, and goes on', async () => {
    const child = spawn(process.execPath, [cliPath, 'session', '--plugins', dir, 'lsp-json', '--on', 'x', '--timeout', '300'], { stdio: ['pipe', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stdin.end('not json\n{"id":7,"params":[]}\n{"wait":"y"}\n{"wait":"x"}\n{"id":8,"method":"m","params":{"named":1}}\n')
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id?: number; error?: { code: string; message: string }; result?: unknown })
    assert.equal(lines.length, 5)
    assert.equal(lines[0]?.error?.code, 'INVALID_REQUEST')
    assert.deepEqual([lines[1]?.id, lines[1]?.error?.code], [7, 'INVALID_REQUEST'])
    assert.match(lines[2]?.error?.message ?? '', /--on y/)
    assert.equal(lines[3]?.error?.code, 'RPC_TIMEOUT', 'a wait for a notification that never comes ends at the deadline')
    assert.deepEqual([lines[4]?.id, lines[4]?.error?.code], [8, 'INVALID_REQUEST'])
    assert.match(lines[4]?.error?.message ?? '', /JSON array/)
    assert.equal(code, 1)
  })
})
