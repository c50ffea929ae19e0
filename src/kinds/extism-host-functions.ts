/**
 * Extism host functions (`extism:host/user`) as the application's host API: import NAME calls
 * `host/NAME` (or NAME itself when it contains a `/`) through the carrier's WasmBridge, so the
 * host checks the plugin's `permissions.host` scopes exactly as for any other plugin call. A host
 * function takes and returns at most one i64, a kernel block: the input block is the method's one
 * argument (JSON when it parses, else text); the answer is stored in a new block (strings as UTF-8,
 * bytes as is, anything else as JSON).
 */
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { ExtismKernel } from './extism-kernel.js'
import type { Signature } from './wasm-signatures.js'
import type { WasmBridge } from './wasm.js'

export const EXTISM_USER = 'extism:host/user'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function hostArgument(bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes)
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function hostResult(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return encoder.encode(value)
  return encoder.encode(JSON.stringify(value ?? null))
}

/** Refuses (at load) a host function whose signature is not PDK-shaped. */
export function checkHostFunction(plugin: string, fn: Signature & { name: string }): void {
  const ok = fn.params.length <= 1 && fn.params.every((p) => p === 'i64') && fn.results.length <= 1 && fn.results.every((r) => r === 'i64')
  if (!ok) {
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `host function ${fn.name} must take and return at most one i64 (a kernel block), as PDK host functions do`, { plugin })
  }
}

export function hostFunctionImports(
  plugin: string,
  functions: ReadonlyArray<Signature & { name: string }>,
  kernel: ExtismKernel,
  bridge: WasmBridge | undefined,
  signal: () => AbortSignal,
): WebAssembly.ModuleImports {
  const imports: WebAssembly.ModuleImports = {}
  for (const { name, params } of functions) {
    const method = name.includes('/') ? name : `host/${name}`
    imports[name] = (input?: bigint) => {
      if (!bridge) {
        throw new PolyplugError(ErrorCodes.HOST_CALL_UNAVAILABLE, `host function ${name}: an inline Extism plugin cannot call the host synchronously; place it in a worker`, { plugin })
      }
      const bytes = params.length === 1 && input !== undefined ? kernel.read(input) : undefined
      const answer = bridge.callHost(method, bytes === undefined ? [] : [hostArgument(bytes)], signal())
      if (!answer.ok) throw answer.error.withContext(plugin, undefined)
      const out = kernel.store(hostResult(answer.value))
      if (out === 0n) throw new PolyplugError(ErrorCodes.PLUGIN_MEMORY_LIMIT, `the answer of ${method} does not fit the plugin's memory limit (limits.memoryMb)`, { plugin })
      return out
    }
  }
  return imports
}
