import type { MethodContext } from '../../src/sdk/define.js'

/** The interface every example plugin implements (examples/shared/conformance.js and its ports). */
export interface ConformanceApi {
  echo<T>(value: T): T
  add(a: number, b: number): number
  fail(code: string): never
  sleep(ms: number, ctx: MethodContext): Promise<number>
  cancelCount(): number
  bytes(n: number): Uint8Array
  callHost(method: string, args: unknown[], ctx: MethodContext): Promise<unknown>
  crash(): never
  /** Streams (plugins whose `$/hello` lists the `streams` capability). */
  count(n: number, failAt?: number): AsyncGenerator<number>
  produced(): number
  sum(items: AsyncIterable<number | Uint8Array>): Promise<number>
}
