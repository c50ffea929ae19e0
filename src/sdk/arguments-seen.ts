/**
 * How many of its arguments a plugin's method can read, from its source: an argument past them is
 * out of its reach, so the direct lane need not make a context that lands there (src/sdk/direct.ts).
 * Only what is certain counts; anything else reads as "all of them" (Infinity) and the method is
 * handed its context as always.
 */

const toSource = Function.prototype.toString

/** Simple parameters only: names and commas, no default, rest, destructuring or comment. */
const NAME = '[A-Za-z_$][\\w$]*'
const LIST = `\\(\\s*((?:${NAME}\\s*,\\s*)*(?:${NAME})?)\\s*,?\\s*\\)`
/** `(a, b) =>`, `async (a) =>`, `function f(a) {`, `async *m(a) {`, `m(a) {`: the parameter list in group 1. */
const WITH_PARENS = new RegExp(`^(?:async\\b\\s*)?(?:function\\b\\s*)?(?:\\*\\s*)?(?:${NAME}\\s*)?${LIST}\\s*(?:=>|\\{)`)
/** `a =>`, `async a =>`. */
const ONE_BARE = new RegExp(`^(?:async\\s+)?${NAME}\\s*=>`)
/**
 * A word by which a function reads arguments it has no parameter for, or a unicode escape that
 * could spell one (also text in a string or comment: over-cautious, never wrong).
 */
const ANY_ARGUMENT = /\b(?:arguments|eval)\b|\\u/

/**
 * The number of arguments `fn` can read, or Infinity when it may read any: a sloppy-mode
 * `function` (its legacy `fn.arguments` is readable by anyone during a call), a bound, native or
 * proxied function (no source to read), a parameter with a default, a rest or destructured
 * parameter (`fn.length` does not count them), and a body that names `arguments` or `eval`.
 */
export function argumentsSeen(fn: (...args: never[]) => unknown): number {
  if (Object.prototype.hasOwnProperty.call(fn, 'arguments')) return Infinity
  let source: string
  try {
    source = toSource.call(fn)
  } catch {
    return Infinity
  }
  if (source.includes('[native code]') || ANY_ARGUMENT.test(source)) return Infinity
  const list = WITH_PARENS.exec(source)
  const declared = list ? (list[1]!.trim() === '' ? 0 : list[1]!.split(',').filter((name) => name.trim() !== '').length) : ONE_BARE.test(source) ? 1 : -1
  return declared === fn.length ? declared : Infinity
}
