/**
 * A real language server from the npm registry (vscode-langservers-extracted's JSON server) hosted
 * as a plugin: `sidecar.protocol: "lsp"` skips the polyplug handshake, speaks Content-Length framing
 * over stdio, and stops with LSP's shutdown + exit, leaving no process behind.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHost } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { PluginRuntime } from '../src/host/plugin.js'
import { readManifest } from '../src/manifest/load.js'
import { until } from './support/wait.js'
import { fixturesDir } from './support/paths.js'
import { alive } from './support/process.js'

const dir = `${fixturesDir}/lsp-json`


interface DocumentSymbol {
  name: string
  children?: DocumentSymbol[]
}

describe('an existing language server hosted as an lsp sidecar', () => {
  it('initialize, didOpen, documentSymbol and completion get real answers; shutdown leaves no process', async () => {
    const runtime = new PluginRuntime(await readManifest(dir), {
      registerApi: () => {},
      config: () => ({}),
      onSessionEnd: () => {},
      logger: silentLogger,
      callTimeoutMs: 20_000,
      startTimeoutMs: 20_000,
      pingTimeoutMs: 5_000,
    })
    const init = await runtime.call<{ capabilities: { documentSymbolProvider?: unknown; completionProvider?: unknown } }>('initialize', [
      {
        processId: process.pid,
        rootUri: null,
        capabilities: { textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true }, completion: { completionItem: { snippetSupport: true } } } },
      },
    ])
    assert.ok(init.capabilities.documentSymbolProvider, 'the server offers document symbols')
    assert.ok(init.capabilities.completionProvider, 'the server offers completion')
    const pid = runtime.pid
    assert.ok(pid !== undefined && alive(pid))
    assert.equal(runtime.info().methods, undefined) // no $/hello: the methods are whatever the server answers
    await runtime.notify('initialized', [{}])

    const uri = 'file:///virtual/settings.json'
    const text = '{\n  "name": "polyplug",\n  "nested": { "inner": true },\n  "list": [1, 2]\n}\n'
    await runtime.notify('textDocument/didOpen', [{ textDocument: { uri, languageId: 'json', version: 1, text } }])
    const symbols = await runtime.call<DocumentSymbol[]>('textDocument/documentSymbol', [{ textDocument: { uri } }])
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['name', 'nested', 'list'],
    )
    assert.deepEqual(
      symbols[1]?.children?.map((s) => s.name),
      ['inner'],
    )

    // Completion with an inline schema association: the server proposes the schema's property names.
    const schemaUri = 'file:///virtual/schema.json'
    const withSchema = 'file:///virtual/config.json'
    await runtime.notify('workspace/didChangeConfiguration', [
      { settings: { json: { schemas: [{ uri: schemaUri, fileMatch: ['config.json'], schema: { type: 'object', properties: { port: { type: 'number' }, host: { type: 'string' } } } }] } } },
    ])
    await runtime.notify('textDocument/didOpen', [{ textDocument: { uri: withSchema, languageId: 'json', version: 1, text: '{\n  \n}\n' } }])
    const completion = await runtime.call<{ items: { label: string }[] }>('textDocument/completion', [{ textDocument: { uri: withSchema }, position: { line: 1, character: 2 } }])
    const labels = completion.items.map((i) => i.label)
    assert.ok(labels.includes('port') && labels.includes('host'), `completion offered ${labels.join(', ')}`)

    await runtime.stop()
    await until(() => !alive(pid), 5000)
    assert.equal(runtime.state, 'inactive')
  })

  it('is discovered by the host and answers through a plugin handle, then the host closes it', async () => {
    const host = await createHost({ plugins: [dir], logger: silentLogger, startTimeoutMs: 20_000 })
    const plugin = host.plugin('lsp-json')
    const init = await plugin.call<{ serverInfo?: unknown; capabilities: object }>('initialize', [{ processId: null, rootUri: null, capabilities: {} }])
    assert.equal(typeof init.capabilities, 'object')
    const pid = plugin.pid()
    assert.ok(pid !== undefined)
    await host.close()
    await until(() => !alive(pid), 5000)
  })
})
