/**
 * A cheaper way than returning a promise for a kind whose method answers from a callback (a native
 * call on the libuv pool): the call's own promise, the one its caller awaits, is settled by the
 * callback itself. A promise returned by the method would be a second promise per call, with a
 * reaction and two closures that pass its outcome on to the caller's — with 256 native calls
 * waiting on the pool, each of those is copied by every scavenge while its call waits. A context
 * that offers `[ANSWER_LATER]` (the direct invoker's, src/sdk/direct.ts) hands out its call's
 * answer; a context that does not (a call served over a channel) gets `undefined`, and the method
 * returns a promise of its own as before.
 *
 * A method that took its call's answer is answered through it alone: the value it returns is not
 * read, a throw fails the call, and the call's deadline and cancellation still end it before the
 * answer comes (an answer after that is dropped, as is a second one).
 */

/** The key of a context's answer: `context[ANSWER_LATER]()`. Not part of MethodContext's public shape. */
export const ANSWER_LATER: unique symbol = Symbol('polyplug.answerLater')

/** How a method that answers later settles its call, once; an error is typed as a thrown one would be. */
export interface LaterAnswer {
  resolve(value: unknown): void
  reject(error: unknown): void
}

interface Answerable {
  [ANSWER_LATER](): LaterAnswer
}

/** The answer of the call `context` belongs to, taken by the method (once); undefined when the context has none to give. */
export function answerLater(context: object): LaterAnswer | undefined {
  const take = (context as Partial<Answerable>)[ANSWER_LATER]
  return typeof take === 'function' ? take.call(context) : undefined
}
