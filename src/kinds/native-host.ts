/**
 * The host-API table handed to a native plugin's `init`, built by the small C shim
 * (src/kinds/native-host.c, compiled to libpolyplug_host.so next to this file by `npm run build`).
 *
 * host->call is synchronous in C and asynchronous in JavaScript. The shim bridges the two: it
 * queues the request onto this JS thread through a koffi callback (`begin`, which only starts
 * the call) and blocks the plugin's thread on a condition variable until `complete` — called
 * here when the host's answer arrives — wakes it. That works because the host always runs
 * plugin code on libuv pool threads (koffi `.async`), never on the JS thread itself — except in
 * a worker, where a call may run on the worker's thread (native-sync.ts): a host call from it is
 * answered before `begin` returns, by blocking that thread on the worker's sync bridge.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import koffi from './koffi.js'
import { PolyplugError, toPolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'
import { parse, stringify } from '../rpc/codec.js'
import type { PluginContext } from '../sdk/define.js'
import type { SyncCalls } from './native-sync.js'

const shimPath = fileURLToPath(new URL('./libpolyplug_host.so', import.meta.url))

const BeginFn = koffi.proto('int32_t pp_begin_fn(void *ticket, const char *method, const void *input, size_t input_len)')
const LogFn = koffi.proto('void pp_log_fn(int32_t level, const char *message)')

interface Shim {
  lib: koffi.IKoffiLib
  hostNew: koffi.KoffiFunction
  hostNewSync: koffi.KoffiFunction
  hostFree: koffi.KoffiFunction
  complete: koffi.KoffiFunction
}

let shim: Shim | undefined

function loadShim(plugin: string): Shim {
  if (shim) return shim
  if (!existsSync(shimPath)) {
    throw new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `the native host shim ${shimPath} is missing: run \`npm run build:native\``, { plugin })
  }
  const lib = koffi.load(shimPath)
  shim = {
    lib,
    hostNew: lib.func('void *pp_host_new(pp_begin_fn *begin, pp_log_fn *log)'),
    hostNewSync: lib.func('void *pp_host_new_sync(pp_begin_fn *begin, pp_log_fn *log)'),
    hostFree: lib.func('void pp_host_free(void *host)'),
    complete: lib.func('void pp_complete(void *ticket, int32_t status, const uint8_t *data, size_t len)'),
  }
  return shim
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const

/**
 * Reads `len` bytes of UTF-8 JSON at `pointer` (with the `$bytes` convention). koffi decodes the
 * text straight from native memory; JSON text never holds a NUL byte, so a char string is exact.
 */
export function readJson(pointer: unknown, len: number): unknown {
  if (!pointer || len === 0) return undefined
  return parse(koffi.decode(pointer, 'char', len) as string)
}

/** UTF-8 JSON bytes of `value` (`undefined` becomes null). */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(stringify(value === undefined ? null : value))
}

/** One plugin's host table: its pointer for `init`, and `close` to fail pending host calls and free it. */
export class NativeHostTable {
  readonly pointer: unknown
  #context: PluginContext | undefined
  #pending = new Set<unknown>()
  #closed = false
  readonly #shim: Shim
  readonly #callbacks: koffi.IKoffiRegisteredCallback[]

  readonly #sync: SyncCalls | undefined

  constructor(
    readonly plugin: string,
    sync?: SyncCalls,
  ) {
    this.#shim = loadShim(plugin)
    this.#sync = sync
    const begin = koffi.register((ticket: unknown, method: string, input: unknown, len: number) => this.#begin(ticket, method, input, len), koffi.pointer(BeginFn))
    const log = koffi.register((level: number, message: string) => this.#log(level, message), koffi.pointer(LogFn))
    this.#callbacks = [begin, log]
    this.pointer = (sync ? this.#shim.hostNewSync : this.#shim.hostNew)(begin, log)
  }

  /** Host calls are served once the plugin is activated (its context knows the way to the host). */
  attach(context: PluginContext): void {
    this.#context = context
  }

  #begin(ticket: unknown, method: string, input: unknown, len: number): number {
    const context = this.#context
    if (this.#closed || !context) return 0
    let params: unknown
    try {
      params = readJson(input, Number(len)) ?? []
    } catch (error) {
      this.#pending.add(ticket)
      this.#complete(ticket, 1, toPolyplugError(error, RpcErrorCodes.PARSE_ERROR))
      return 1
    }
    this.#pending.add(ticket)
    if (this.#sync?.active) {
      // From a call on this thread: answered now, before the plugin's host->call returns.
      const answer = this.#sync.callHost(method, Array.isArray(params) ? params : [params])
      this.#complete(ticket, answer.ok ? 0 : 1, answer.ok ? answer.value : answer.error)
      return 1
    }
    context
      .call(method, Array.isArray(params) ? params : [params])
      .then(
        (result) => this.#complete(ticket, 0, result),
        (error: unknown) => this.#complete(ticket, 1, toPolyplugError(error)),
      )
    return 1
  }

  #complete(ticket: unknown, status: 0 | 1, value: unknown): void {
    if (!this.#pending.has(ticket)) return // already answered by close(): the ticket is gone
    this.#pending.delete(ticket)
    const body = status === 0 ? value : { code: (value as PolyplugError).code, message: (value as PolyplugError).message }
    let bytes: Uint8Array
    try {
      bytes = encodeJson(body)
    } catch (error) {
      const e = toPolyplugError(error)
      bytes = encodeJson({ code: e.code, message: e.message })
      status = 1
    }
    this.#shim.complete(ticket, status, bytes, bytes.byteLength)
  }

  #log(level: number, message: string): void {
    const log = this.#context?.log
    if (log) log[LEVELS[level] ?? 'info'](message)
  }

  /** Fails every host call still waiting (so no plugin thread stays blocked), then refuses new ones. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const ticket of [...this.#pending]) {
      this.#pending.delete(ticket)
      const bytes = encodeJson({ code: RpcErrorCodes.CHANNEL_CLOSED, message: 'the plugin is shutting down' })
      this.#shim.complete(ticket, 1, bytes, bytes.byteLength)
    }
  }

  /** Frees the table and its callbacks; only once no plugin code can still use them. */
  dispose(): void {
    this.close()
    this.#shim.hostFree(this.pointer)
    for (const callback of this.#callbacks) koffi.unregister(callback)
  }
}
