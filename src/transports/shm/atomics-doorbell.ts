/**
 * The doorbell between threads of one process: a wake counter per side in the region's header,
 * rung with Atomics.add + Atomics.notify and awaited with Atomics.waitAsync, so neither the
 * host's nor the worker's event loop ever blocks (a plugin in a worker keeps its timers and its
 * cancellation path alive, which a blocking Atomics.wait would stop).
 */
import { Word, type Role } from './layout.js'
import type { Doorbell } from './channel.js'

/** ES2024's Atomics.waitAsync (Node 16+); the project's lib is ES2023. */
type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string }
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

export interface AtomicsDoorbellOptions {
  /**
   * Before sleeping in waitAsync, block in Atomics.wait for up to this long (ms): a reply that
   * comes back quickly is then seen without a trip through the event loop. Only for a thread that
   * can afford to stall that long (a plugin's worker), never the host's main thread. Default 0.
   */
  blockMs?: number
}

export function atomicsDoorbell(buffer: SharedArrayBuffer, role: Role, options: AtomicsDoorbellOptions = {}): Doorbell {
  const blockMs = options.blockMs ?? 0
  const words = new Int32Array(buffer, 0, 8)
  const mine = role === 'host' ? Word.hostWake : Word.pluginWake
  const theirs = role === 'host' ? Word.pluginWake : Word.hostWake
  let stopped = false
  return {
    ring() {
      Atomics.add(words, theirs, 1)
      Atomics.notify(words, theirs)
    },
    start(onWake) {
      const loop = async () => {
        while (!stopped) {
          // Read the counter before looking at the rings: a ring in between changes it, and
          // waitAsync then returns at once instead of sleeping through it.
          const seen = Atomics.load(words, mine)
          onWake()
          if (stopped) return
          if (blockMs > 0) {
            // Let what onWake queued (a synchronous handler's reply) go out before blocking.
            await undefined
            if (Atomics.wait(words, mine, seen, blockMs) !== 'timed-out') continue
          }
          const wait = waitAsync(words, mine, seen)
          if (wait.async) await wait.value
        }
      }
      void loop()
    },
    close() {
      if (stopped) return
      stopped = true
      // Release our own pending waitAsync so the loop ends.
      Atomics.add(words, mine, 1)
      Atomics.notify(words, mine)
    },
  }
}
