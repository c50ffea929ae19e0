import { createHost, type Host, type HostOptions } from '../../src/host/host.js'
import type { LogEntry } from '../../src/host/log.js'
import { fixturesDir } from './paths.js'

export const hostFixtures = `${fixturesDir}/host`

/** A host over test/fixtures/host/app with a `host/trace` API every plugin may call, and a captured log. */
export async function appHost(options: Partial<HostOptions> = {}): Promise<{ host: Host; trace: string[]; log: LogEntry[] }> {
  const trace: string[] = []
  const log: LogEntry[] = []
  const host = await createHost({
    plugins: [`${hostFixtures}/app`],
    logger: (e) => void log.push(e),
    api: { trace: (line: string) => void trace.push(line) },
    publicApi: ['trace'],
    ...options,
  })
  return { host, trace, log }
}
