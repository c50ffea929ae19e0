/**
 * A full garbage collection for a process measured at start-up, without running it under
 * `--expose-gc`. That flag is part of the hash V8 checks a code cache against, so under it Node
 * rejects the code cache of its own built-in modules (built with the default flags) and compiles
 * each `node:` module it loads from source: `require('crypto'); require('stream');
 * require('http')` took 8.4–12.4 ms of CPU under the flag against 2.3–2.8 ms without it here
 * (Node 20.20), in every thread of the process — no application runs like that. So the flag is
 * set only long enough to take `gc` from a new context, and then unset: the flags hash is the
 * default one again for everything the process loads afterwards.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | undefined

/** Collects garbage now; the first call takes the collector function as above. */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
    setFlagsFromString('--no-expose-gc')
  }
  gc()
}
