/**
 * `native` plugins (the C conformance library) inline, in a worker and in a process carrier,
 * against raw koffi calls of the same `call` entry with the same encoded JSON buffers — the cost
 * of the ABI itself — and, for the process carrier, against a js plugin over the same stdio transport.
 */
import { fileURLToPath } from 'node:url'
import koffi from 'koffi'
import { createHost } from '../../src/host/host.js'
import { silentLogger } from '../../src/host/log.js'
import { openNativeLibrary } from '../../src/kinds/native-abi.js'
import { encodeJson, readJson } from '../../src/kinds/native-host.js'
import { compare, row, type BenchRow, type CompareOptions } from '../measure.js'

const examples = fileURLToPath(new URL('../../../examples', import.meta.url))

/**
 * The raw ABI round trip: encode params, call, decode the answer, release it. `sync` runs on the
 * JS thread. The instance is NULL: the C example's echo touches no per-instance state.
 */
export function rawEcho(sync: boolean) {
  const lib = openNativeLibrary('bench', `${examples}/native-c-inline/libconformance.so`)
  const flag = koffi.alloc('int32_t', 1)
  koffi.encode(flag, 'int32_t', 0)
  const finish = (out: unknown[], outLen: number[]) => {
    const len = Number(outLen[0])
    const value = readJson(out[0], len)
    lib.release(out[0], len)
    return value
  }
  return (value: unknown): unknown => {
    const input = encodeJson([value])
    const out: unknown[] = [null]
    const outLen = [0]
    if (sync) {
      lib.call(null, 'echo', input, input.byteLength, out, outLen, flag)
      return finish(out, outLen)
    }
    return new Promise((resolve, reject) => {
      lib.call.async(null, 'echo', input, input.byteLength, out, outLen, flag, (error: unknown) => (error ? reject(error) : resolve(finish(out, outLen))))
    })
  }
}

/**
 * The four-op pass's options. Each op's round is led in by 5 ms of its own untimed calls: which op
 * ran before decided a round's time (the raw call measured against itself in this pass read 0.2–1.0
 * in the rounds after the worker op against the rounds after the sync call; docs/performance.md,
 * "Round eight: the native pass's order effect"; `node dist/bench/aa.js` checks it).
 */
export const NATIVE_PASS: CompareOptions = { batch: 100, rounds: 21, warmup: 500, leadMs: 5 }

export async function run(): Promise<BenchRow[]> {
  const host = await createHost({ plugins: [examples], logger: silentLogger })
  const rows: BenchRow[] = []
  const rawAsync = rawEcho(false)
  const rawSync = rawEcho(true)
  try {
    const inline = host.plugin('native-c-inline')
    const worker = host.plugin('native-c-worker')
    await Promise.all([inline.activate(), worker.activate()])
    const [i, w, a, s] = await compare([() => inline.call('echo', [1]), () => worker.call('echo', [1]), () => rawAsync(1), () => rawSync(1)], NATIVE_PASS)
    const common = { kind: 'native', peer: 'koffi sync', peer_value: s! }
    rows.push(row({ name: 'native inline echo vs raw koffi .async', placement: 'inline', transport: 'direct', polyplug: i!, baseline: a!, ...common }))
    rows.push(row({ name: 'native worker echo vs raw koffi .async', placement: 'worker', transport: 'port', polyplug: w!, baseline: a!, ...common }))

    const proc = host.plugin('native-c-process')
    const jsProc = host.plugin('echo-process-stdio')
    await Promise.all([proc.activate(), jsProc.activate()])
    const [p, j] = await compare([() => proc.call('echo', [1]), () => jsProc.call('echo', [1])], { batch: 100, rounds: 21, warmup: 500 })
    rows.push(row({ name: 'native process echo vs js process echo', kind: 'native', placement: 'process', transport: 'stdio', polyplug: p!, baseline: j! }))
  } finally {
    await host.close()
  }
  return rows
}
