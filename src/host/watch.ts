/**
 * Dev-mode file watching: one callback per burst of changes (debounced), and rescans that run one
 * at a time. Watching is the host's only use of `node:fs` watchers; `close` ends every one.
 */
import { watch } from 'node:fs'
import type { Disposable } from './dispatch.js'

export interface WatchOptions {
  /** Changes anywhere below (a plugin's folder), or only entries appearing in or leaving the folder itself. */
  recursive: boolean
  /** Quiet time after the last change before `onChange` runs. */
  debounceMs: number
}

/** Calls `onChange` once a burst of changes under any of `paths` has settled. The returned function stops watching; calling it again does nothing. */
export function watchPaths(paths: readonly string[], options: WatchOptions, onChange: () => void): Disposable {
  let timer: ReturnType<typeof setTimeout> | undefined
  const changed = () => {
    clearTimeout(timer)
    timer = setTimeout(onChange, options.debounceMs)
  }
  const watchers = paths.map((path) => watch(path, { recursive: options.recursive }, changed))
  return () => {
    clearTimeout(timer)
    for (const watcher of watchers) watcher.close()
  }
}

/** Wraps `task` so that its runs never overlap: a run requested while one is going starts after it. */
export function oneAtATime(task: () => Promise<void>): () => void {
  let running: Promise<void> = Promise.resolve()
  return () => {
    running = running.then(task).catch(() => {}) // the task reports its own errors; the chain must outlive one
  }
}
