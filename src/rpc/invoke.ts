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
  const args = Array.isArray(params) ? params.slice() : params === undefined ? [] : [params]
  while (args.length < fn.length - 1) args.push(undefined)
  args.push(context)
  return fn.apply(thisArg, args)
}
