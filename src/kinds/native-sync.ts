/**
 * Native calls on a worker's own thread. In a worker the plugin's library can be called
 * synchronously (blocking the worker is allowed), which saves the round trip through the libuv
 * pool — two thread wake-ups per call — that koffi `.async` costs. But while a call runs there the
 * worker reads no messages, so a method runs there only once its calls have proved short:
 *  - a method's calls start on the pool; after PROVEN consecutive calls each answered within
 *    SHORT_MS, its calls run on the worker's thread. A pool call is timed from when it could start:
 *    with many calls in flight most of a call's time on the pool is its wait behind the calls ahead
 *    of it, which says nothing of how long the method runs (PoolLine);
 *  - a call there that takes longer than LONG_MS sends its method back to the pool, and it must
 *    prove itself twice as long before it returns (a method that is sometimes long settles on the pool);
 *  - a request that arrives while a call waits for the host (the bridge serves it nested) runs
 *    there whatever its method: the pool's answer could not arrive while this thread waits.
 * The host raises the cancel flag of a call running here in shared memory (cancel-slots.ts);
 * its host calls wait on the worker's sync bridge (wasm-pump.ts).
 * The manifest's `native.workerCalls: "pool"` keeps every call of its plugin on the pool (a plugin
 * whose short methods are sometimes long), `"thread"` runs every call here from the first;
 * POLYPLUG_NATIVE_SYNC=never / =always does the same for every plugin of the host and overrides
 * the manifest (the tests pin the mechanism with it).
 */
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { CANCEL_SLOTS, CancelSlots, requestKey } from './cancel-slots.js'
import type { RequestId } from '../rpc/wire.js'
import type { WasmBridge } from './wasm.js'
import type { MethodContext } from '../sdk/define.js'

/** What the worker carrier lends a native plugin (native-module.ts builds it from the sync bridge). */
export interface NativeBridge extends WasmBridge {
  /** The request being handed to a method right now (undefined when the call did not come from a message). */
  currentRequest(): RequestId | undefined
  /** The shared cancel slots the host raises (the bridge's wake buffer). */
  readonly slots: CancelSlots
}

const PROVEN = 8
const SHORT_MS = 2
const LONG_MS = 10
const MAX_PROOF = 1024

/** libuv's pool threads, as libuv reads them (UV_THREADPOOL_SIZE, default 4, at most 1024). */
export const POOL_THREADS = Math.min(1024, Math.max(1, Math.floor(Number(process.env.UV_THREADPOOL_SIZE)) || 4))
/** Recent pool call ends remembered: a call further back in line is timed from its own start. */
const ENDS = 1024

/**
 * A plugin's calls on the libuv pool, in line. The pool's threads take calls in order, so with
 * `threads` of them the n-th call in line starts no earlier than the moment the (n - threads + 1)-th
 * call ended: a call is timed from then (or from when it was made, if later). Other work on the pool
 * (another plugin, file system calls) only makes a call look longer than it ran, never shorter.
 */
export class PoolLine {
  #joined = 0
  #ended = 0
  readonly #ends = new Float64Array(ENDS)

  constructor(readonly threads: number = POOL_THREADS) {}

  /** A call goes on the pool: its place in line. */
  join(): number {
    return this.#joined++
  }

  /** The call at `place`, made at `started`, ended at `now` (ms): how long it ran, without its wait in line. */
  left(place: number, started: number, now: number): number {
    this.#ends[this.#ended++ % ENDS] = now
    const freed = place - this.threads + 1 // the n-th call to end (counting from 1) frees the thread this one runs on
    if (freed < 1 || freed > this.#ended || freed <= this.#ended - ENDS) return now - started
    return now - Math.max(started, this.#ends[(freed - 1) % ENDS] as number)
  }
}

interface Proof {
  streak: number
  needed: number
}

export type SyncMode = 'proven' | 'always' | 'never'

/** The manifest's `native.workerCalls`, by the names of the modes. */
const WORKER_CALLS: Record<string, SyncMode> = { proven: 'proven', pool: 'never', thread: 'always' }

/**
 * The mode for one plugin: POLYPLUG_NATIVE_SYNC (`never`/`always`, the host's override) when set,
 * else the manifest's `native.workerCalls`, else `proven`.
 */
export function syncMode(workerCalls?: string, value = process.env.POLYPLUG_NATIVE_SYNC): SyncMode {
  if (value === 'always' || value === 'never') return value
  return (workerCalls !== undefined ? WORKER_CALLS[workerCalls] : undefined) ?? 'proven'
}

export class SyncCalls {
  #depth = 0
  readonly #contexts: MethodContext[] = []
  readonly #methods = new Map<string, Proof>()
  /** This plugin's calls on the pool: how long each ran, without its wait in line (for `pooled`). */
  readonly line = new PoolLine()

  constructor(
    readonly bridge: NativeBridge,
    private readonly plugin: string,
    private readonly mode: SyncMode = syncMode(),
  ) {}

  /** True while a call runs on this thread (a host call made now comes from it). */
  get active(): boolean {
    return this.#depth > 0
  }

  /** The request to run `method` for on this thread now, or undefined to use the pool. */
  runHere(method: string): RequestId | undefined {
    const id = this.bridge.currentRequest()
    if (id === undefined) return undefined
    if (this.#depth > 0 || this.mode === 'always') return id
    if (this.mode === 'never') return undefined
    const record = this.#methods.get(method)
    return record && record.streak >= record.needed ? id : undefined
  }

  /** A call on the pool took `ms`, from its start to its answer. */
  pooled(method: string, ms: number): void {
    let record = this.#methods.get(method)
    if (!record) this.#methods.set(method, (record = { streak: 0, needed: PROVEN }))
    record.streak = ms <= SHORT_MS ? record.streak + 1 : 0
  }

  /** Starts a call here: returns its depth, whose flag goes to the plugin. */
  enter(id: RequestId, context: MethodContext, method: string): number {
    const depth = this.#depth
    if (depth >= CANCEL_SLOTS) {
      throw new PolyplugError(RpcErrorCodes.INTERNAL_ERROR, `${method}: host and plugin calls nested more than ${CANCEL_SLOTS} deep`, { plugin: this.plugin, method })
    }
    this.bridge.slots.claim(depth, requestKey(id))
    this.#contexts[depth] = context
    this.#depth++
    return depth
  }

  /** The int32 cancel flag of the call at `depth`, as the plugin's `cancelled` pointer. */
  flag(depth: number): Int32Array {
    return this.bridge.slots.flags[depth] as Int32Array
  }

  /** The call at `depth` returned after `ms`. */
  leave(depth: number, method: string, ms: number): void {
    this.#depth = depth
    this.#contexts.length = depth
    this.bridge.slots.release(depth)
    if (ms <= LONG_MS) return
    const record = this.#methods.get(method)
    if (record && record.streak >= record.needed) {
      record.streak = 0
      record.needed = Math.min(record.needed * 2, MAX_PROOF)
    }
  }

  /** A host call from the running call: blocks this thread on the bridge until the host answers. */
  callHost(method: string, params: unknown): ReturnType<WasmBridge['callHost']> {
    const context = this.#contexts[this.#depth - 1] as MethodContext
    return this.bridge.callHost(method, params, context.signal)
  }
}
