/**
 * The polyplug native ABI (kits/c/include/polyplug.h, docs/native-abi.md) as koffi types, and
 * opening a library with every check done BEFORE any plugin code runs: the file is a shared
 * library for this machine, it exports the entry symbol, and its descriptor declares ABI
 * version 1 and a size that covers every version-1 field.
 */
import { openSync, readSync, closeSync } from 'node:fs'
import koffi from './koffi.js'
import { PolyplugError } from '../rpc/errors.js'
import { PluginErrorCodes } from '../errors/plugin.js'

export const ABI_VERSION = 1
export const ENTRY_SYMBOL = 'polyplug_plugin_v1'

export const InitFn = koffi.proto('int32_t polyplug_init_fn(const void *host, const uint8_t *config, size_t config_len, _Out_ void **instance)')
export const CallFn = koffi.proto(
  'int32_t polyplug_call_fn(void *instance, const char *method, const uint8_t *input, size_t input_len, _Out_ void **out, _Out_ size_t *out_len, const int32_t *cancelled)',
)
export const ReleaseFn = koffi.proto('void polyplug_release_fn(void *buffer, size_t len)')
export const ShutdownFn = koffi.proto('void polyplug_shutdown_fn(void *instance)')

/** Version 1 of `polyplug_plugin`; later versions only append fields. */
const PluginV1 = koffi.struct('polyplug_plugin_v1_t', {
  abi_version: 'uint32_t',
  size: 'uint32_t',
  name: 'const char *',
  methods: 'const char *',
  init: 'void *',
  call: 'void *',
  release: 'void *',
  shutdown: 'void *',
})
export const PLUGIN_V1_SIZE = koffi.sizeof(PluginV1)

/** A plugin entry point resolved to callable functions. */
export interface NativeLibrary {
  readonly name: string
  readonly methods: string[]
  readonly init: koffi.KoffiFunction | undefined
  readonly call: koffi.KoffiFunction
  readonly release: koffi.KoffiFunction
  readonly shutdown: koffi.KoffiFunction | undefined
  /** The descriptor's declared size (>= PLUGIN_V1_SIZE). */
  readonly size: number
  /** Held so the library is never unloaded while its decoded function pointers live. */
  readonly handle: koffi.IKoffiLib
}

const unavailable = (id: string, path: string, reason: string, message: string, cause?: unknown) =>
  new PolyplugError(PluginErrorCodes.PLUGIN_UNAVAILABLE, `${path}: ${message}`, { plugin: id, cause, data: { reason, path } })

// ELF e_machine values for the architectures Node runs on (Linux); elsewhere dlopen's own message decides.
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183, ia32: 3, arm: 40, riscv64: 243, ppc64: 21, s390x: 22, loong64: 258 }

/** Reads the file header so "not a library" and "built for another CPU" get their own errors. */
function checkHeader(id: string, path: string): void {
  if (process.platform !== 'linux') return
  const header = Buffer.alloc(20)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (cause) {
    throw unavailable(id, path, 'missing', `cannot open the library: ${(cause as Error).message}`, cause)
  }
  try {
    readSync(fd, header, 0, 20, 0)
  } finally {
    closeSync(fd)
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) throw unavailable(id, path, 'not-a-library', 'not a shared library (no ELF header)')
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18)
  const expected = ELF_MACHINE[process.arch]
  const bits = header[4] === 2 ? 64 : 32
  const hostBits = ['x64', 'arm64', 'riscv64', 'ppc64', 's390x', 'loong64'].includes(process.arch) ? 64 : 32
  if ((expected !== undefined && machine !== expected) || bits !== hostBits) {
    throw unavailable(id, path, 'wrong-architecture', `built for another architecture (ELF machine ${machine}, ${bits}-bit); this host is ${process.arch}`)
  }
}

/**
 * Opens the library, resolves the entry symbol and validates the descriptor. Throws
 * PLUGIN_UNAVAILABLE (data.reason: missing, not-a-library, wrong-architecture, load-failed,
 * missing-entry, no-descriptor) or ABI_MISMATCH; in every case no plugin function has run
 * except the entry symbol, which only returns a pointer to static data.
 */
export function openNativeLibrary(id: string, path: string): NativeLibrary {
  checkHeader(id, path)
  let lib: koffi.IKoffiLib
  try {
    lib = koffi.load(path)
  } catch (cause) {
    throw unavailable(id, path, 'load-failed', `the library failed to load: ${(cause as Error).message}`, cause)
  }
  let entry: koffi.KoffiFunction
  try {
    entry = lib.func(`const void *${ENTRY_SYMBOL}(void)`)
  } catch (cause) {
    throw unavailable(id, path, 'missing-entry', `exports no ${ENTRY_SYMBOL} symbol: is it a polyplug plugin? (see kits/c/include/polyplug.h)`, cause)
  }
  const descriptor = entry() as unknown
  if (descriptor === null) throw unavailable(id, path, 'no-descriptor', `${ENTRY_SYMBOL}() returned NULL`)
  // Read the two leading fields alone first: nothing else may be trusted before they check out.
  const version = koffi.decode(descriptor, 0, 'uint32_t') as number
  const size = koffi.decode(descriptor, 4, 'uint32_t') as number
  if (version !== ABI_VERSION) {
    throw new PolyplugError(PluginErrorCodes.ABI_MISMATCH, `${path}: plugin ABI version ${version}, host speaks ${ABI_VERSION}`, {
      plugin: id,
      data: { path, pluginAbi: version, hostAbi: ABI_VERSION },
    })
  }
  if (size < PLUGIN_V1_SIZE) {
    throw new PolyplugError(PluginErrorCodes.ABI_MISMATCH, `${path}: descriptor is ${size} bytes, ABI version 1 needs at least ${PLUGIN_V1_SIZE}`, {
      plugin: id,
      data: { path, size, expected: PLUGIN_V1_SIZE },
    })
  }
  const d = koffi.decode(descriptor, PluginV1) as Record<string, unknown>
  if (!d.call || !d.release) throw new PolyplugError(PluginErrorCodes.ABI_MISMATCH, `${path}: descriptor has no call or release function`, { plugin: id })
  return {
    name: String(d.name ?? id),
    methods: String(d.methods ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
    init: d.init ? koffi.decode(d.init, InitFn) : undefined,
    call: koffi.decode(d.call, CallFn),
    release: koffi.decode(d.release, ReleaseFn),
    shutdown: d.shutdown ? koffi.decode(d.shutdown, ShutdownFn) : undefined,
    size,
    handle: lib,
  }
}
