/**
 * `polyplug session`: one plugin session kept open across many calls, driven by JSON lines on
 * stdin (a script or a person typing), answered by JSON lines on stdout. Meant for plugins that
 * keep state between calls, such as a language server (open a document, then ask about it).
 *
 * In:  {"id":1,"method":"initialize","params":[{...}]}   a call (`params`: positional arguments)
 *      {"method":"initialized","params":[{}]}            a notification (no id)
 *      {"wait":"textDocument/publishDiagnostics"}        block until that notification arrives
 * Out: {"id":1,"result":...} | {"id":1,"error":{"code":"...","message":"..."}}
 *      {"notification":"textDocument/publishDiagnostics","params":{...}}   for each --on METHOD
 * Lines run in order, each after the previous one finished. At end of input the plugin is stopped.
 */
import { createInterface } from 'node:readline'
import { createHost } from '../host/host.js'
import { stderrLogger } from '../host/log.js'
import { stringify } from '../rpc/codec.js'
import { toPolyplugError } from '../rpc/errors.js'
import { UsageError } from './output.js'

export interface SessionOptions {
  /** Notifications from the plugin to print (and to `wait` for). */
  on: string[]
  /** Deadline of each call and each `wait`, in ms. */
  timeout?: number
}

interface Line {
  id?: unknown
  method?: unknown
  params?: unknown
  wait?: unknown
}

/** Runs one session; returns 0 when every line succeeded, 1 when any call, notification or wait failed. */
export async function runSession(plugins: string[], positionals: string[], options: SessionOptions): Promise<number> {
  const [id] = positionals
  if (!id) throw new UsageError('session needs ID')
  const timeout = options.timeout ?? 30_000
  const host = await createHost({ plugins, logger: stderrLogger('warn'), callTimeoutMs: timeout })
  const out = (value: unknown) => process.stdout.write(`${stringify(value)}\n`)
  const arrived = new Map<string, number>()
  const checks = new Set<() => void>()
  let failed = false
  try {
    const plugin = host.plugin(id)
    for (const method of options.on) {
      plugin.onNotification(method, (params) => {
        out({ notification: method, params: params ?? null })
        arrived.set(method, (arrived.get(method) ?? 0) + 1)
        for (const check of [...checks]) check()
      })
    }
    const waitFor = (method: string, count: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if ((arrived.get(method) ?? 0) < count) return
          checks.delete(check)
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(() => {
          checks.delete(check)
          reject(new Error(`no ${method} notification within ${timeout} ms`))
        }, timeout)
        checks.add(check)
        check()
      })
    // `wait` consumes one notification: the n-th wait for a method returns after its n-th arrival.
    const waited = new Map<string, number>()
    for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (text.trim() === '') continue
      const line = parseLine(text)
      const id = line && 'id' in line ? (line.id ?? null) : undefined
      try {
        if (!line) throw new UsageError(`not a JSON object: ${text}`)
        if (typeof line.wait === 'string') {
          if (!options.on.includes(line.wait)) throw new UsageError(`wait for "${line.wait}" needs --on ${line.wait}`)
          const n = (waited.get(line.wait) ?? 0) + 1
          waited.set(line.wait, n)
          await waitFor(line.wait, n)
          continue
        }
        if (typeof line.method !== 'string') throw new UsageError('a line needs "method" (a call with "id", a notification without) or "wait"')
        if (line.params !== undefined && !Array.isArray(line.params)) throw new UsageError('"params" must be a JSON array of positional arguments')
        const params = (line.params ?? []) as unknown[]
        if (id === undefined) await plugin.notify(line.method, params)
        else out({ id, result: (await plugin.call(line.method, params)) ?? null })
      } catch (error) {
        failed = true
        const e = toPolyplugError(error, 'INVALID_REQUEST')
        out({ ...(id === undefined ? {} : { id }), error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) } })
      }
    }
  } finally {
    await host.close()
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
