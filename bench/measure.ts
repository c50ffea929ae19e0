/** Timing helpers: sequential awaited round trips, interleaved rounds, medians. */

export interface BenchRow {
  name: string
  kind: string
  placement: string
  transport: string
  metric: string
  unit: string
  polyplug: number
  baseline: number
  ratio: number
  peer?: string
  peer_value?: number
}

export type Op = () => Promise<unknown> | unknown

/** Microseconds per op: the median over `rounds` of the mean of `batch` sequential ops. */
async function sample(op: Op, batch: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < batch; i++) await op()
  return ((performance.now() - t0) * 1000) / batch
}

/**
 * Measures several ops against each other, interleaving their rounds so that machine noise
 * falls on all of them alike. Returns µs per op, in the order given.
 */
export async function compare(ops: Op[], options: { batch?: number; rounds?: number; warmup?: number } = {}): Promise<number[]> {
  const batch = options.batch ?? 500
  const rounds = options.rounds ?? 15
  for (const op of ops) for (let i = 0; i < (options.warmup ?? 2000); i++) await op()
  const samples: number[][] = ops.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [i, op] of ops.entries()) samples[i]?.push(await sample(op, batch))
  }
  return samples.map(median)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1] ?? NaN
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function row(fields: Omit<BenchRow, 'ratio' | 'metric' | 'unit'> & Partial<Pick<BenchRow, 'metric' | 'unit'>>): BenchRow {
  return {
    metric: 'round-trip',
    unit: 'us',
    ...fields,
    polyplug: round(fields.polyplug),
    baseline: round(fields.baseline),
    ratio: round(fields.polyplug / fields.baseline),
    ...(fields.peer_value === undefined ? {} : { peer_value: round(fields.peer_value) }),
  }
}
