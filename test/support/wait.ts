/**
 * Waiting in tests: on a condition, never on a clock. `until` polls a condition (sync or async)
 * until it holds or a generous timeout passes, then fails naming what it waited for; `firstAnswer`
 * retries an attempt until it answers. The timeouts are ceilings for a loaded machine, not goals.
 */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let pause = 1
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, pause))
    pause = Math.min(pause * 2, 25)
  }
}

/** Calls `attempt` until it answers (a rejection counts as no answer yet) or `withinMs` runs out; returns the answer or undefined. */
export async function firstAnswer<T>(attempt: () => Promise<T>, withinMs: number, pauseMs: number): Promise<T | undefined> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    const answer = await attempt().catch(() => undefined)
    if (answer !== undefined) return answer
    await new Promise((r) => setTimeout(r, pauseMs))
  }
  return undefined
}
