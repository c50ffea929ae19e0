/**
 * A process's stderr (and a stdout that carries no protocol) as log lines, bounded: a line longer
 * than MAX_LINE_CHARS is cut there (marked with "…") and the rest of it, up to its newline,
 * dropped, so a process writing without newlines cannot grow the host's memory.
 */
import type { Readable } from 'node:stream'

export const MAX_LINE_CHARS = 8192

export function captureLines(stream: Readable | null, onLine: (line: string) => void, maxChars = MAX_LINE_CHARS): void {
  if (!stream) return
  stream.setEncoding('utf8')
  let pending = ''
  let dropping = false
  const emit = (line: string) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line)
  stream.on('data', (chunk: string) => {
    let start = 0
    for (;;) {
      const newline = chunk.indexOf('\n', start)
      if (!dropping) {
        pending += newline < 0 ? chunk.slice(start) : chunk.slice(start, newline)
        if (pending.length > maxChars) {
          onLine(`${pending.slice(0, maxChars)}…`)
          pending = ''
          dropping = true
        }
      }
      if (newline < 0) return
      if (!dropping) emit(pending)
      pending = ''
      dropping = false
      start = newline + 1
    }
  })
  stream.on('end', () => {
    if (pending && !dropping) emit(pending)
  })
}
