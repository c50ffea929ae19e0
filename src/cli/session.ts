/**
 * `polyplug session`: one plugin session kept open across many calls, driven by JSON lines on
 * stdin (a script or a person typing), answered by JSON lines on stdout. Meant for plugins that
 * keep state between calls, such as a language server (open a document, then ask about it).
 *
 * In:  {"id":1,"method":"initialize","params":[{...}]}   a call (`params`: positional arguments)
 *      {"method":"initialized","params":[{}]}            a notification (no id)
 *      {"wait":"textDocument/publishDiagnostics"}        block until one more such notification arrived
 *                                                        than earlier waits consumed (early ones count)
 * Out: {"id":1,"result":...} | {"id":1,"error":{"code":"...","message":"..."}}
 *      {"notification":"textDocument/publishDiagnostics","params":{...}}   for each --on METHOD
 * Lines run in order, each after the previous one finished. At end of input the plugin is stopped.
 * `polyplug dev` serves the same lines (serveLines) on the plugins it runs, where a line may also
 * name its plugin ("plugin": ID) and be written as shorthand (./session-lines.ts).
 */
import { createInterface } from 'node:readline'
import { createHost } from '../host/host.js'
import { stringify } from '../rpc/codec.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { PluginHandle } from '../host/host.js'
import { printOutcome, UsageError } from './output.js'
import { cliLogger } from './verbosity.js'

export interface SessionOptions {
  /** Notifications from the plugin to print (and to `wait` for). */
  on: string[]
  /** Deadline of each call and each `wait`, in ms. */
  timeout?: number
}

export interface Line {
  id?: unknown
  method?: unknown
  params?: unknown
  wait?: unknown
  /** Which plugin a line is for, where a session serves several (polyplug dev). */
  plugin?: unknown
}

/** The plugin a line goes to, given its "plugin" field; throws a typed error for an unknown one. */
export type LineTarget = (plugin: string | undefined) => PluginHandle

/** How serveLines reads a line that is not a JSON object (polyplug dev's shorthand); undefined: not a line. */
export type Shorthand = (text: string) => Line | undefined

/** Counts a plugin's notifications, so a `wait` line can block until the n-th one of a method arrived. */
class Arrivals {
  readonly #count = new Map<string, number>()
  readonly #checks = new Set<() => void>()

  arrived(method: string): void {
    this.#count.set(method, (this.#count.get(method) ?? 0) + 1)
    for (const check of [...this.#checks]) check()
  }

  /** Resolves once `count` notifications of `method` arrived in all; RPC_TIMEOUT after `timeoutMs`. */
  waitFor(method: string, count: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if ((this.#count.get(method) ?? 0) < count) return
        this.#checks.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#checks.delete(check)
        reject(new PolyplugError(ErrorCodes.RPC_TIMEOUT, `no ${method} notification within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#checks.add(check)
      check()
    })
  }
}

/** Runs one session; returns 0 when every line succeeded, 1 when any call, notification or wait failed. */
export async function runSession(plugins: string[], positionals: string[], options: SessionOptions): Promise<number> {
  const [id] = positionals
  if (!id) throw new UsageError('session needs ID')
  const timeout = options.timeout ?? 30_000
  const host = await createHost({ plugins, logger: cliLogger(), callTimeoutMs: timeout })
  try {
    let plugin: PluginHandle
    try {
      plugin = host.plugin(id)
    } catch (error) {
      return printOutcome(() => Promise.reject(error))
    }
    return await serveLines(() => plugin, options.on, timeout)
  } finally {
    await host.close()
  }
}

/** Serves JSON lines from stdin on the plugin(s) `target` gives; returns 0 when every line succeeded, else 1. */
export async function serveLines(target: LineTarget, on: string[], timeout: number, shorthand?: Shorthand): Promise<number> {
  const out = (value: unknown) => process.stdout.write(`${stringify(value)}\n`)
  const arrivals = new Arrivals()
  for (const method of on) {
    target(undefined).onNotification(method, (params) => {
      out({ notification: method, params: params ?? null })
      arrivals.arrived(method)
    })
  }
  // Each `wait` consumes one notification: the n-th wait for a method returns after its n-th arrival.
  const waited = new Map<string, number>()
  let failed = false
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (text.trim() === '') continue
    let line: Line | undefined
    let id: unknown
    try {
      line = parseLine(text) ?? shorthand?.(text)
      id = line && 'id' in line ? (line.id ?? null) : undefined
      if (!line) throw new UsageError(`not a JSON object: ${text}`)
      if (line.plugin !== undefined && typeof line.plugin !== 'string') throw new UsageError('"plugin" must be a plugin id')
      const plugin = target(line.plugin as string | undefined)
      if (typeof line.wait === 'string') {
        if (!on.includes(line.wait)) throw new UsageError(`wait for "${line.wait}" needs --on ${line.wait}`)
        const n = (waited.get(line.wait) ?? 0) + 1
        waited.set(line.wait, n)
        await arrivals.waitFor(line.wait, n, timeout)
        continue
      }
      if (typeof line.method !== 'string') throw new UsageError('a line needs "method" (a call with "id", a notification without) or "wait"')
      if (line.params !== undefined && !Array.isArray(line.params)) throw new UsageError('"params" must be a JSON array of positional arguments')
      const params = (line.params ?? []) as unknown[]
      if (id === undefined) await plugin.notify(line.method, params)
      else out({ id, result: (await plugin.call(line.method, params)) ?? null })
    } catch (error) {
      failed = true
      const e = toPolyplugError(error, ErrorCodes.INVALID_REQUEST)
      out({ ...(id === undefined ? {} : { id }), error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) } })
    }
  }
  return failed ? 1 : 0
}

function parseLine(text: string): Line | undefined {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Line) : undefined
  } catch {
    return undefined
  }
}
