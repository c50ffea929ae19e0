import { readFile } from 'node:fs/promises'
import { readManifest } from '../manifest/load.js'
import { serveReplica } from '../host/replica.js'
import { UsageError } from './output.js'

export interface ServeFlags {
  broker?: string | undefined
  username?: string | undefined
  passwordEnv?: string | undefined
  ca?: string | undefined
  replica?: string | undefined
}

/**
 * `polyplug serve DIR --broker URL`: runs the plugin in DIR as one replica of its pool until
 * SIGTERM/SIGINT (docs/scale-out.md). Prints `ready REPLICA` once it takes calls.
 */
export async function runServe(args: string[], flags: ServeFlags): Promise<number> {
  const [dir] = args
  if (!dir || !flags.broker) throw new UsageError('serve needs DIR and --broker URL')
  const password = flags.passwordEnv ? process.env[flags.passwordEnv] : undefined
  if (flags.passwordEnv && password === undefined) throw new UsageError(`--password-env ${flags.passwordEnv}: the variable is not set`)
  const loaded = await readManifest(dir)
  const running = await serveReplica({
    loaded,
    broker: flags.broker,
    ...(flags.username ? { username: flags.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(flags.ca ? { ca: await readFile(flags.ca) } : {}),
    ...(flags.replica ? { replica: flags.replica } : {}),
  })
  process.stdout.write(`ready ${running.replica}\n`)
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await running.close()
  return 0
}
