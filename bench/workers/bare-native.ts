/**
 * The bare baseline for a native plugin: koffi loads the same library and its polyplug_plugin_v1
 * descriptor is read and called by hand (docs/native-abi.md), with no polyplug runtime around it.
 * Imported, it gives `bareNative(path)`; as a worker it answers each postMessage; as a child
 * process it answers each line of stdin (one JSON value).
 */
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { parentPort, workerData } from 'node:worker_threads'
import type * as Koffi from 'koffi'

let types: { koffi: typeof Koffi; descriptor: Koffi.IKoffiCType; call: Koffi.IKoffiCType; release: Koffi.IKoffiCType } | undefined

export function bareNative(path: string): (value: unknown) => unknown {
  // koffi and the ABI's types once per thread (koffi refuses a type name twice); the library per call.
  types ??= (() => {
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi
    return {
      koffi,
      descriptor: koffi.struct({ abi_version: 'uint32_t', size: 'uint32_t', name: 'const char *', methods: 'const char *', init: 'void *', call: 'void *', release: 'void *', shutdown: 'void *' }),
      call: koffi.proto('int32_t bare_call_fn(void *, const char *, const uint8_t *, size_t, _Out_ void **, _Out_ size_t *, const int32_t *)'),
      release: koffi.proto('void bare_release_fn(void *, size_t)'),
    }
  })()
  const { koffi } = types
  const lib = koffi.load(path)
  const d = koffi.decode(lib.func('const void *polyplug_plugin_v1(void)')() as unknown, types.descriptor) as Record<string, unknown>
  const call = koffi.decode(d.call, types.call)
  const release = koffi.decode(d.release, types.release)
  const flag = new Int32Array(1)
  return (value) => {
    const input = Buffer.from(JSON.stringify([value]))
    const out: unknown[] = [null]
    const outLen = [0]
    call(null, 'echo', input, input.byteLength, out, outLen, flag)
    const len = Number(outLen[0])
    const result = JSON.parse(koffi.decode(out[0], 'char', len) as string) as unknown
    release(out[0], len)
    return result
  }
}

const port = parentPort
const path = port ? (workerData as { native?: string } | undefined)?.native : process.argv[2]
if (port && path) {
  const echo = bareNative(path)
  port.on('message', (value: unknown) => port.postMessage(echo(value)))
} else if (!port && path && process.argv[1] === new URL(import.meta.url).pathname) {
  const echo = bareNative(path)
  for await (const line of createInterface({ input: process.stdin })) process.stdout.write(`${JSON.stringify(echo(JSON.parse(line)))}\n`)
}
