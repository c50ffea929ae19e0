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
