/**
 * Loads a `python` plugin into Pyodide: the same `.py` file a sidecar runs (kits/python), its
 * module imported under a name of its own, its methods called synchronously on this thread.
 * In a worker, host calls and sleeps wait on the sync bridge (wasm-pump.ts) and a cancelled call
 * is interrupted (Pyodide's interrupt buffer, KeyboardInterrupt); inline, nothing can run while
 * Python does, so host calls fail with HOST_CALL_UNAVAILABLE and a sleep cannot be cancelled.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { LoadRequest } from '../registry/types.js'
import { parse, stringify } from '../rpc/codec.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { Reserved } from '../rpc/wire.js'
import type { MethodContext, PluginContext, PluginDefinition } from '../sdk/define.js'
import { grantsOf, runtimeFor, type PyProxy, type Runtime } from './pyodide-runtime.js'
import type { WasmBridge } from './wasm.js'

/** The worker bridge, plus the word the host sets to 2 (SIGINT) when it cancels a call. */
export interface PythonBridge extends WasmBridge {
  readonly interrupt?: Int32Array
}

interface Call {
  signal: AbortSignal
}

export async function loadPythonPlugin(request: LoadRequest & { dir?: string | undefined; bridge?: PythonBridge | undefined }): Promise<PluginDefinition> {
  const { id, entryPath, manifest, bridge } = request
  const dir = request.dir ?? dirname(entryPath)
  const runtime = await runtimeFor(grantsOf(manifest, dir), id)
  const key = `${createHash('sha256').update(`${id}\0${entryPath}`).digest('hex').slice(0, 12)}_${runtime.loaded++}`
  const codeDir = `/polyplug/plugins/${key}`
  await stage(runtime, id, entryPath, dir, codeDir)
  if (bridge?.interrupt) runtime.py.setInterruptBuffer(bridge.interrupt)

  const calls = new Map<string, Call>()
  let nextCall = 0
  let context: PluginContext | undefined
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  const signalOf = (callId: unknown) => calls.get(String(callId))?.signal ?? new AbortController().signal
  // All the plugin's Python code can reach of the host: no prototypes, so no way from these
  // objects to the host's Function constructor (and from there to its globals).
  const host = sealed({
    call(method: string, paramsJson: string, callId: unknown): string {
      if (!bridge) {
        return stringify({ error: { code: ErrorCodes.HOST_CALL_UNAVAILABLE, message: 'an inline python plugin cannot call the host synchronously; place it in a worker' } })
      }
      const answer = bridge.callHost(method, parse(paramsJson), signalOf(callId))
      clearInterrupt()
      return stringify(answer.ok ? { result: answer.value ?? null } : { error: { code: answer.error.code, message: answer.error.message, data: answer.error.data } })
    },
    wait(callId: unknown, ms: number): boolean {
      const signal = signalOf(callId)
      if (bridge) {
        const cancelled = bridge.wait(ms < 0 ? Infinity : ms, signal)
        clearInterrupt()
        return cancelled
      }
      // Inline: nothing else runs on this thread meanwhile, so nothing can cancel the wait.
      if (ms > 0) Atomics.wait(sleeper, 0, 0, ms)
      return signal.aborted
    },
    cancelled(callId: unknown): boolean {
      const signal = signalOf(callId)
      return bridge ? bridge.wait(0, signal) : signal.aborted
    },
    log(level: string, text: string): void {
      const log = context?.log
      if (!log) return
      ;(level === 'debug' || level === 'warn' || level === 'error' ? log[level] : log.info)(text)
    },
    notify(method: string, paramsJson: string): void {
      if (method !== Reserved.progress) return
      const { id: callId, value } = parse(paramsJson) as { id: unknown; value: unknown }
      ;(calls.get(String(callId)) as { progress?: (value: unknown) => void } | undefined)?.progress?.(value)
    },
  })
  function clearInterrupt(): void {
    if (bridge?.interrupt) Atomics.store(bridge.interrupt, 0, 0)
  }

  let loaded: PyProxy
  try {
    loaded = runtime.glue.load!(id, key, join(codeDir, basename(entryPath)), host) as PyProxy
  } catch (error) {
    throw loadError(id, entryPath, error)
  }

  const run = (fn: () => unknown, method: string): unknown => {
    if (runtime.dead) throw new PolyplugError(ErrorCodes.PLUGIN_CRASHED, 'the Python interpreter has exited', { plugin: id, method })
    try {
      return fn()
    } catch (error) {
      const status = (error as { status?: unknown }).status
      if (typeof status === 'number' && /exit/i.test((error as Error).name)) {
        // os._exit / sys.exit at the top: the interpreter is gone.
        runtime.dead = true
        if (bridge) bridge.exit(status)
        throw new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `the Python interpreter exited with code ${status}`, { plugin: id, method, data: { exitCode: status } })
      }
      throw toPolyplugError(error).withContext(id, method)
    }
  }

  const invoke = loaded.invoke as unknown as (method: string, params: string, callId: string) => string
  const methods: Record<string, (...params: unknown[]) => unknown> = Object.create(null) as Record<string, never>
  for (const name of loaded.methods!() as unknown as Iterable<string>) {
    methods[name] = (...params: unknown[]) => {
      const ctx = params.pop() as MethodContext | undefined
      const callId = String(++nextCall)
      calls.set(callId, { signal: ctx?.signal ?? new AbortController().signal, ...(ctx ? { progress: (v: unknown) => ctx.progress(v) } : {}) })
      clearInterrupt()
      try {
        const answer = parse(run(() => invoke(name, stringify(params), callId), name) as string) as {
          result?: unknown
          error?: { code: string; message: string; data?: unknown }
        }
        if (answer.error) throw new PolyplugError(answer.error.code, answer.error.message, { plugin: id, method: name, data: answer.error.data ?? undefined })
        return answer.result
      } finally {
        calls.delete(callId)
        clearInterrupt()
      }
    }
  }
  return {
    methods,
    // Streams (generators, stream arguments) are the sidecar's only for now: docs/python.md.
    capabilities: [],
    activate(pluginContext) {
      context = pluginContext
      run(() => loaded.activate!(stringify(pluginContext.config ?? {})), Reserved.activate)
    },
    deactivate() {
      if (!runtime.dead) run(() => loaded.deactivate!(), Reserved.shutdown)
    },
  }
}

/** The object and its functions without prototypes (Pyodide still calls them). */
function sealed<T extends Record<string, (...args: never[]) => unknown>>(object: T): T {
  for (const fn of Object.values(object)) Object.setPrototypeOf(fn, null)
  return Object.freeze(Object.setPrototypeOf(object, null) as T)
}

/** Copies the plugin's Python files (the entry's folder) and unpacks its vendored wheels. */
async function stage(runtime: Runtime, id: string, entryPath: string, dir: string, codeDir: string): Promise<void> {
  const FS = runtime.py.FS
  FS.mkdirTree(codeDir)
  const entryDir = dirname(entryPath)
  for (const name of await readdir(entryDir)) {
    if (name.endsWith('.py')) FS.writeFile(join(codeDir, name), await readFile(join(entryDir, name)))
  }
  const { installWheels } = await import('./python-wheels.js')
  await installWheels(runtime, id, dir, `${codeDir}/site-packages`)
}

/** A plugin that fails to import: a module Pyodide lacks gets the fix named. */
function loadError(id: string, entryPath: string, error: unknown): PolyplugError {
  const message = (error as Error).message ?? String(error)
  const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(message)?.[1]
  if (missing) {
    return new PolyplugError(
      ErrorCodes.PLUGIN_UNAVAILABLE,
      `${entryPath} imports "${missing}", which Pyodide cannot provide in-process: vendor a pure-Python wheel of it in the plugin folder, or place the plugin in a sidecar (kind "exec", placement "process")`,
      { plugin: id, data: { module: missing } },
    )
  }
  const last = message.trim().split('\n').at(-1) ?? message
  return new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `${entryPath} failed to load: ${last}`, { plugin: id, cause: error })
}
