/**
 * Calls an implementation with positional params followed by its context. Missing trailing
 * arguments are padded with `undefined` up to the function's declared arity, so the context
 * always lands in the last declared parameter: `callHost(method, args, ctx)` called with one
 * argument still gets `ctx` third. Named params (an object) are passed as one argument.
 */
export function invokeWithContext(
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  params: unknown[] | Record<string, unknown> | undefined,
  context: unknown,
): unknown {
  return invokeWithArity(fn, fn.length, thisArg, params, context)
}

/** invokeWithContext for a caller that read the function's declared arity (`fn.length`) once, not per call. */
export function invokeWithArity(
  fn: (...args: unknown[]) => unknown,
  arity: number,
  thisArg: unknown,
  params: unknown[] | Record<string, unknown> | undefined,
  context: unknown,
): unknown {
  // Up to three positional params that fill the declared arity: called straight, no array copied.
  if (Array.isArray(params) && params.length <= 3 && params.length >= arity - 1) {
    if (params.length === 0) return fn.call(thisArg, context)
    if (params.length === 1) return fn.call(thisArg, params[0], context)
    if (params.length === 2) return fn.call(thisArg, params[0], params[1], context)
    return fn.call(thisArg, params[0], params[1], params[2], context)
  }
  const args = Array.isArray(params) ? params.slice() : params === undefined ? [] : [params]
  while (args.length < arity - 1) args.push(undefined)
  args.push(context)
  return fn.apply(thisArg, args)
}

/** A method called with its arguments alone, no context after them: one, or any number. */
export function invokeAlone(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
  return args.length === 1 ? fn.call(thisArg, args[0]) : fn.apply(thisArg, args)
}
