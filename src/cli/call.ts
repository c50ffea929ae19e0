import { createHost } from '../host/host.js'
import { cliLogger } from './verbosity.js'
import { UsageError } from './output.js'
import { parseArgsJson, printOutcome } from './output.js'

/** Activates one plugin, calls one method, prints the JSON result (or the error) and stops it. */
export async function runCall(plugins: string[], positionals: string[], timeout?: number): Promise<number> {
  const [id, method, paramsJson] = positionals
  if (!id || !method) throw new UsageError('call needs ID and METHOD')
  const params = parseArgsJson('PARAMS_JSON', paramsJson)
  const host = await createHost({ plugins, logger: cliLogger(), ...(timeout ? { callTimeoutMs: timeout } : {}) })
  try {
    return await printOutcome(() => host.plugin(id).call(method, params))
  } finally {
    await host.close()
  }
}
