/**
 * The floor of any RPC over a MessagePort, both sides: the least a call that names its method and
 * is answered by id must do. The caller makes an id, keeps the call's resolve in a Map under it,
 * posts `{id, method, params}` and makes one promise; the other side answers `{id, result}` with
 * `params[0]`; the caller looks the id up, deletes it and resolves. No timeouts, cancellation,
 * errors, checks or batching: against it, what the worker row spends above this is polyplug's own.
 */

/** What `post` must deliver to the other side, and what it answers: structured clones of these. */
export interface FloorRequest {
  id: number
  method: string
  params: unknown[]
}

export interface FloorAnswer {
  id: number
  result: unknown
}

/** The answering side: `{id, result: params[0]}`. */
export function floorAnswer(request: unknown): FloorAnswer {
  const { id, params } = request as FloorRequest
  return { id, result: params[0] }
}

/**
 * The calling side over any port: `listen` hands it every answer, `post` sends a request.
 * Returns `call(method, params)`, answered in any order.
 */
export function floorCaller(post: (request: FloorRequest) => void, listen: (onAnswer: (answer: unknown) => void) => void): (method: string, params: unknown[]) => Promise<unknown> {
  const waiting = new Map<number, (result: unknown) => void>()
  let nextId = 0
  listen((answer) => {
    const { id, result } = answer as FloorAnswer
    const resolve = waiting.get(id)
    waiting.delete(id)
    resolve?.(result)
  })
  return (method, params) =>
    new Promise((resolve) => {
      const id = ++nextId
      waiting.set(id, resolve)
      post({ id, method, params })
    })
}
