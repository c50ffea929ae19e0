/**
 * Bytes allocated per call, from V8's sampling heap profiler (through `node:inspector`), for
 * bench/profile.ts with PROFILE_HEAP=1: sampling starts before the measured calls and stops after
 * them, objects collected by minor and major GCs included (so short-lived garbage counts), and the
 * samples are summed in all and by allocating function (its script and line). Sampling every 64
 * bytes by default (PROFILE_HEAP_INTERVAL): a figure is an estimate, steady over a few thousand calls.
 */
import { Session } from 'node:inspector'

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: SamplingNode[]
}

export interface HeapSampler {
  /** Stops sampling and writes the bytes per call, in all and for the `top` allocating functions, to stderr. */
  report(calls: number, top?: number): Promise<void>
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))))
}

export async function startHeapSampling(interval = Number(process.env.PROFILE_HEAP_INTERVAL ?? 64)): Promise<HeapSampler> {
  const session = new Session()
  session.connect()
  await post(session, 'HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  return {
    async report(calls, top = Number(process.env.PROFILE_HEAP_TOP ?? 15)) {
      const { profile } = await post<{ profile: { head: SamplingNode } }>(session, 'HeapProfiler.stopSampling')
      session.disconnect()
      const byFunction = new Map<string, number>()
      let total = 0
      const walk = (node: SamplingNode) => {
        total += node.selfSize
        if (node.selfSize > 0) {
          const { functionName, url, lineNumber } = node.callFrame
          const where = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`
          byFunction.set(where, (byFunction.get(where) ?? 0) + node.selfSize)
        }
        for (const child of node.children) walk(child)
      }
      walk(profile.head)
      const lines = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)
      process.stderr.write(`  heap: ${(total / calls).toFixed(0)} bytes allocated per call\n`)
      for (const [where, size] of lines) process.stderr.write(`    ${(size / calls).toFixed(0).padStart(6)}  ${where}\n`)
    },
  }
}
