/**
 * Waiting in tests: on a condition, never on a clock. `until` polls a condition (sync or async)
 * until it holds, then fails naming what it waited for if it never does; `within` bounds a promise
 * the same way; `firstAnswer` retries an attempt until it answers. Their deadlines only keep a
 * broken test from hanging: on a loaded machine anything may take long, so no wait gives up before
 * PATIENCE_MS. A test's own figure can only raise that.
 */

/** The least time a test waits for anything before calling it a hang. POLYPLUG_TEST_PATIENCE_MS overrides it. */
export const PATIENCE_MS = Number(process.env.POLYPLUG_TEST_PATIENCE_MS) || 120_000

/** The deadline for a wait that asked for `ms`: never shorter than PATIENCE_MS. */
export function patience(ms = 0): number {
  return Math.max(ms, PATIENCE_MS)
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 0, what = 'condition'): Promise<void> {
  const limit = patience(timeoutMs)
  const deadline = Date.now() + limit
  let pause = 1
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${limit} ms`)
    await new Promise((r) => setTimeout(r, pause))
    pause = Math.min(pause * 2, 25)
  }
}

/** `promise`, or a rejection naming `what` if it has not settled within patience(timeoutMs). */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 0): Promise<T> {
  const limit = patience(timeoutMs)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${limit} ms`)), limit)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Calls `attempt` until it answers (a rejection counts as no answer yet) or patience(withinMs) runs out; returns the answer or undefined. */
export async function firstAnswer<T>(attempt: () => Promise<T>, withinMs: number, pauseMs: number): Promise<T | undefined> {
  const deadline = Date.now() + patience(withinMs)
  while (Date.now() < deadline) {
    const answer = await attempt().catch(() => undefined)
    if (answer !== undefined) return answer
    await new Promise((r) => setTimeout(r, pauseMs))
  }
  return undefined
}
