/**
 * One table of numeric JSON-RPC error codes (schema/error-codes.json): the Node host and SDK and
 * every kit carry exactly that table (checked in beside each kit's code, compared here), and no kit
 * spells a code anywhere else, so a code can never mean one thing in one language and
 * another elsewhere; and no polyplug-own code sits in a range JSON-RPC or LSP reserve.
 * The same file is the catalog of every string code, grouped by layer and documented: each
 * layer's code list matches it, and docs/errors.md is exactly what it renders.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { PolyplugError, RpcErrorCodes } from '../src/rpc/errors.js'
import { errorLayer, ErrorCodes, ErrorLayers } from '../src/errors/index.js'
import { StreamMethods } from '../src/rpc/stream.js'
import { APPLICATION_ERROR, errorFromWire, errorToWire, numericCodes, Reserved } from '../src/rpc/wire.js'
import { root } from './support/paths.js'

interface Table {
  application: number
  codes: Record<string, number>
  layers: Record<string, string>
  errors: Record<string, { layer: string; meaning: string; cause: string; fix: string }>
  methods: Record<string, string>
  streamMethods: Record<string, string>
}
const table = JSON.parse(readFileSync(`${root}schema/error-codes.json`, 'utf8')) as Table

/** `"NAME": -123` (Python), `("NAME", -123)` (Rust), `{"NAME", -123}` (C) pairs inside `text`. */
function pairs(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/"([A-Z_]+)"\s*[:,]\s*(-\d+)/g)) out[m[1]!] = Number(m[2])
  return out
}

/** The slice of a kit's source between `start` and the first `end` after it. */
function slice(path: string, start: string, end: string): string {
  const text = readFileSync(`${root}${path}`, 'utf8')
  const from = text.indexOf(start)
  assert.ok(from >= 0, `${path} has no "${start}"`)
  return text.slice(from, text.indexOf(end, from))
}

const kits = [
  { kit: 'Python (kits/python)', path: 'kits/python/polyplug.py', start: 'NUMERIC_CODES = {', end: '}', application: /APPLICATION_ERROR = (-\d+)/ },
  { kit: 'Rust (kits/rust-sidecar)', path: 'kits/rust-sidecar/src/lib.rs', start: 'const NUMERIC:', end: '];', application: /const APPLICATION_ERROR: i32 = (-\d+);/ },
  { kit: 'C (kits/c-sidecar)', path: 'kits/c-sidecar/polyplug.c', start: 'NUMERIC[] = {', end: '};', application: /#define APPLICATION_ERROR \((-\d+)\)/ },
  { kit: 'Go (kits/go)', path: 'kits/go/polyplug/polyplug.go', start: 'var numericCodes = map[string]int{', end: '\n}', application: /const applicationError = (-\d+)/ },
]

/** Every source file of every kit (kits/, build outputs aside): the AssemblyScript and native kits carry no table, and must spell no code. */
function kitSources(dir = `${root}kits`): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return ['target', '__pycache__', 'node_modules'].includes(entry.name) ? [] : kitSources(path)
    return /\.(py|c|h|rs|go|ts)$/.test(entry.name) ? [path] : []
  })
}

/** A numeric code spelled out: -32768..-31000 as a literal. */
const NUMERIC_LITERAL = /(?<![\w.])-3[12]\d{3}(?!\d)/g

describe('one table of numeric error codes', () => {
  it('the Node host and SDK use exactly schema/error-codes.json', () => {
    assert.deepEqual({ ...numericCodes }, table.codes)
    assert.equal(APPLICATION_ERROR, table.application)
    for (const code of Object.keys(table.codes)) assert.ok(code in ErrorCodes, `${code} is a known ErrorCodes entry`)
  })

  for (const { kit, path, start, end, application } of kits) {
    it(`the ${kit} kit carries the same table and application code`, () => {
      assert.deepEqual(pairs(slice(path, start, end)), table.codes)
      const text = readFileSync(`${root}${path}`, 'utf8')
      assert.equal(Number(application.exec(text)?.[1]), table.application, `${path} declares the application code`)
    })
  }

  it('no kit spells a numeric code outside its table: each takes them from it', () => {
    const tables = new Map(kits.map((k) => [`${root}${k.path}`, k]))
    const strays: string[] = []
    const files = kitSources()
    assert.ok(files.length > 20, `found the kits' sources (${files.length} files)`)
    for (const file of files) {
      let text = readFileSync(file, 'utf8')
      const table = tables.get(file)
      if (table) text = text.replace(slice(table.path, table.start, table.end), '').replace(table.application, '')
      for (const m of text.matchAll(NUMERIC_LITERAL)) strays.push(`${file.slice(root.length)}: ${m[0]}`)
    }
    assert.deepEqual(strays, [])
  })

  it('maps each number to one string code and back', () => {
    const numbers = Object.values(table.codes)
    assert.equal(new Set(numbers).size, numbers.length, 'no number is used twice')
    for (const [code, n] of Object.entries(table.codes)) {
      const wire = errorToWire(new PolyplugError(code, 'x'))
      assert.equal(wire.code, n)
      assert.equal(errorFromWire({ code: n, message: 'from a foreign peer' }).code, code)
    }
  })

  it("keeps polyplug's own codes out of the ranges JSON-RPC and LSP reserve for other meanings", () => {
    const foreign = new Set([-32700, -32600, -32601, -32602, -32603, -32002, -32001, -32800, -32801, -32802, -32803])
    for (const [code, n] of [...Object.entries(table.codes), ['(application)', table.application] as const]) {
      if (foreign.has(n)) continue // a standard code, used with its standard meaning
      assert.ok(n > -32000 || n < -32768, `${code} (${n}) is outside JSON-RPC's reserved -32768..-32000`)
      assert.ok(n > -32800 || n < -32899, `${code} (${n}) is outside LSP's reserved -32899..-32800`)
    }
  })

  it('a foreign -32001 is not a timeout, a foreign -32800 is a cancellation, foreign data of any type survives', () => {
    assert.equal(errorFromWire({ code: -32001, message: 'unknown' }).code, ErrorCodes.UNKNOWN_ERROR_CODE)
    assert.equal(errorFromWire({ code: -32002, message: 'not initialized' }).code, ErrorCodes.SERVER_NOT_INITIALIZED)
    assert.equal(errorFromWire({ code: -32800, message: 'cancelled' }).code, ErrorCodes.RPC_CANCELLED)
    assert.equal(errorFromWire({ code: 12345, message: 'app' }).code, ErrorCodes.INTERNAL_ERROR)
    for (const data of [{ retry: true, code: 7 }, { code: 'E_X', extra: 1 }, [1, 'two'], 'text', 42, false, null]) {
      const error = errorFromWire({ code: -32603, message: 'm', data })
      assert.deepEqual(error.data, data)
      assert.equal(error.code, ErrorCodes.INTERNAL_ERROR)
    }
    const ours = errorFromWire({ code: -31000, message: 'm', data: { code: 'E_MINE', plugin: 'p', data: { n: 1 } } })
    assert.deepEqual([ours.code, ours.plugin, ours.data], ['E_MINE', 'p', { n: 1 }])
  })
})

describe('the error catalog, grouped by layer and documented', () => {
  it('each layer defines exactly the codes the catalog lists under it, and no code sits in two layers', () => {
    assert.deepEqual(Object.keys(ErrorLayers), Object.keys(table.layers))
    for (const [layer, codes] of Object.entries(ErrorLayers)) {
      const listed = Object.entries(table.errors).filter(([, e]) => e.layer === layer).map(([code]) => code)
      assert.deepEqual(Object.values(codes).sort(), listed.sort(), `the ${layer} layer's codes`)
      for (const [name, code] of Object.entries(codes)) assert.equal(name, code, 'each constant is its own name')
    }
    const all = Object.values(ErrorLayers).flatMap((codes) => Object.values(codes))
    assert.equal(new Set(all).size, all.length, 'no code is defined twice')
    assert.deepEqual(Object.keys(ErrorCodes).sort(), Object.keys(table.errors).sort(), 'ErrorCodes is every layer together')
    assert.equal(errorLayer('PACKAGE_CONFLICT'), 'package')
    assert.equal(errorLayer('E_PLUGIN_OWN'), undefined)
  })

  it('the RPC core knows only its own layer: every numbered code is an rpc code', () => {
    assert.deepEqual(RpcErrorCodes, ErrorLayers.rpc)
    for (const code of Object.keys(table.codes)) assert.equal(table.errors[code]?.layer, 'rpc', `${code} has a wire number, so it is the protocol's`)
  })

  it('documents every code: meaning, typical cause and fix, none empty', () => {
    for (const [code, entry] of Object.entries(table.errors)) {
      assert.match(code, /^[A-Z][A-Z0-9_]*$/)
      assert.ok(entry.layer in table.layers, `${code}: layer "${entry.layer}" is one of the layers`)
      for (const field of ['meaning', 'cause', 'fix'] as const) assert.ok(entry[field]?.trim().length > 10, `${code} has a ${field}`)
    }
  })

  it('docs/errors.md is exactly what the catalog renders (npm run errors:docs), so no code is missing from it', async () => {
    const { renderErrorDocs } = (await import(pathToFileURL(`${root}scripts/error-docs.mjs`).href)) as { renderErrorDocs(t: Table): string }
    const docs = readFileSync(`${root}docs/errors.md`, 'utf8')
    assert.equal(docs, renderErrorDocs(table), 'docs/errors.md is stale: run npm run errors:docs')
    for (const code of Object.keys(ErrorCodes)) assert.ok(docs.includes(`| \`${code}\` |`), `docs/errors.md lists ${code}`)
  })

  it('names the reserved protocol methods the SDK and host use, for the kits to carry', () => {
    assert.deepEqual(table.methods, { ...Reserved })
    assert.deepEqual(table.streamMethods, { ...StreamMethods })
  })
})
