/** "Did you mean …?": the closest of a few known names, for errors that name the fix. */

/** Edit distance between two short strings (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]!
}

/** The known name closest to `name`, if it is close enough to be a typo (a third of its length). */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best
}

/** `a, b, c` (and N more) — a list short enough for one error line. */
export function listNames(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n)).join(', ')
  return names.length > max ? `${shown} and ${names.length - max} more` : shown
}

/** The METHOD_NOT_FOUND text: what was asked, a likely typo, and what there is. Reserved `$/` methods are not listed. */
export function methodNotFoundMessage(method: string, handlers: Iterable<string>): string {
  const known = [...handlers].filter((h) => !h.startsWith('$/')).sort()
  const guess = closest(method, known)
  const hint = guess ? `; did you mean ${JSON.stringify(guess)}?` : ''
  return `no method named ${JSON.stringify(method)}${hint}${known.length ? ` (methods: ${listNames(known)})` : ' (it has no methods)'}`
}
