import { createHost } from '../host/host.js'
import { stderrLogger } from '../host/log.js'
import { stringify } from '../rpc/codec.js'
import { toPolyplugError } from '../rpc/errors.js'
import { UsageError } from './main.js'

/** Activates one plugin, calls one method, prints the JSON result (or the error) and stops it. */
export async function runCall(plugins: string[], positionals: string[], timeout?: number): Promise<number> {
  const [id, method, paramsJson] = positionals
  if (!id || !method) throw new UsageError('call needs ID and METHOD')
  let params: unknown = []
  if (paramsJson !== undefined) {
    try {
      params = JSON.parse(paramsJson)
    } catch (error) {
      throw new UsageError(`PARAMS_JSON is not valid JSON: ${(error as Error).message}`)
    }
    if (!Array.isArray(params)) throw new UsageError('PARAMS_JSON must be a JSON array of positional arguments')
  }
  const host = await createHost({ plugins, logger: stderrLogger('warn'), ...(timeout ? { callTimeoutMs: timeout } : {}) })
  try {
    const result = await host.plugin(id).call(method, params as unknown[])
    process.stdout.write(`${stringify(result ?? null)}\n`)
    return 0
  } catch (error) {
    const e = toPolyplugError(error)
    process.stderr.write(`${e.code}: ${e.message}${e.plugin ? ` (plugin ${e.plugin}${e.method ? `, method ${e.method}` : ''})` : ''}\n`)
    return 1
  } finally {
    await host.close()
  }
}
