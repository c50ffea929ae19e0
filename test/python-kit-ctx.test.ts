/**
 * Whether a Python method is given `ctx` (kits/python/polyplug.py, `_wants_ctx`): read from a plain
 * function's code object, it must answer what `inspect.signature` answers, for every shape of
 * parameter list and for what is not a plain function.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { root } from './support/paths.js'

const CHECK = String.raw`
import functools, inspect, json, sys
sys.path.insert(0, sys.argv[1])
import polyplug

def plain(a, b): return a
def positional(a, ctx): return a
def keyword_only(a, *, ctx=None): return a
def only_ctx(ctx): return ctx
def positional_only(ctx, /, a): return a
def star_ctx(*ctx): return ctx
def star_star_ctx(**ctx): return ctx
def local_ctx(a):
    ctx = a
    return ctx
def closure(a):
    def inner():
        return ctx
    ctx = a
    return inner
def outer(ctx):
    return lambda a: (a, ctx)
def decorated_by(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper
with_ctx_wrapped = decorated_by(positional)
without_ctx_wrapped = decorated_by(plain)
def signed(*args): return args
signed.__signature__ = inspect.Signature([inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
class Callable:
    def __call__(self, a, ctx): return a
class Methods:
    def method(self, a, ctx): return a

cases = {
    "plain": plain, "positional": positional, "keyword_only": keyword_only, "only_ctx": only_ctx,
    "positional_only": positional_only, "star_ctx": star_ctx, "star_star_ctx": star_star_ctx,
    "local_ctx": local_ctx, "closure": closure, "lambda_closing_over_ctx": outer(1),
    "lambda_ctx": lambda ctx: ctx, "wrapped_with_ctx": with_ctx_wrapped, "wrapped_without": without_ctx_wrapped,
    "given_a_signature": signed, "partial": functools.partial(positional, 1), "callable_object": Callable(),
    "bound_method": Methods().method, "builtin": len,
}
def expected(fn):
    try:
        return "ctx" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
print(json.dumps({name: [polyplug._wants_ctx(fn), expected(fn)] for name, fn in cases.items()}))
`

describe('a Python method is given ctx', () => {
  it('exactly when inspect.signature lists a parameter named ctx', () => {
    const answers = JSON.parse(execFileSync('python3', ['-c', CHECK, join(root, 'kits', 'python')], { encoding: 'utf8' })) as Record<string, [boolean, boolean]>
    for (const [name, [wants, expected]] of Object.entries(answers)) assert.equal(wants, expected, name)
    // The cases cover both answers, and the parameters that are not positional.
    assert.deepEqual(
      Object.entries(answers).filter(([, [wants]]) => wants).map(([name]) => name).sort(),
      ['bound_method', 'callable_object', 'given_a_signature', 'keyword_only', 'only_ctx', 'partial', 'positional', 'positional_only', 'star_ctx', 'star_star_ctx', 'wrapped_with_ctx', 'lambda_ctx'].sort(),
    )
  })
})
