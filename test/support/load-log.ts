/**
 * A preload (`node --import`) that records every module a process loads: ES modules through a
 * loader hook (module.register), CommonJS ones from require's cache at exit. Each file's URL or
 * path goes, one a line, to the file named by POLYPLUG_LOAD_LOG.
 */
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'

const log = process.env.POLYPLUG_LOAD_LOG
if (log) {
  register('./load-log-hooks.js', import.meta.url, { data: { log } })
  process.on('exit', () => {
    const cache = (createRequire(import.meta.url)('node:module') as { _cache: Record<string, unknown> })._cache
    appendFileSync(log, Object.keys(cache).map((file) => `${file}\n`).join(''))
  })
}
