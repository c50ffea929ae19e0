/**
 * The Node process carrier: `node process-carrier.js <entryPath> <manifest JSON>`. Loads a
 * js/wasm/native plugin through the kinds registry and serves it over the transport named in
 * the environment (docs/protocol.md). It exits when the host asks (`$/shutdown`), when its channel
 * ends, or when POLYPLUG_HOST_PID is gone — a plugin never outlives its host.
 */
import { Console } from 'node:console'
import { loadPlugin } from '../kinds/registry.js'
import type { Manifest } from '../manifest/schema.js'
import { jsonCodec } from '../rpc/codec.js'
import { msgpackCodec } from '../rpc/msgpack.js'
import { serveLoadError, servePlugin } from '../sdk/serve.js'
import { connectPlugin } from '../transports/sidecar-plugin.js'
import { isNetworked, serveNetworked } from './net-carrier.js'

/** How often the carrier checks that its host still lives. */
const HOST_POLL_MS = 500

export function watchHost(pid: number, onGone: () => void): void {
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') onGone()
    }
  }, HOST_POLL_MS)
  timer.unref()
}

/** Over stdio the real stdout is the channel: plugin code's console.log and stdout writes go to stderr. */
function guardStdout(): void {
  const real = process.stdout
  void real // create the fd-1 stream now, for the channel, before hiding it
  Object.defineProperty(process, 'stdout', { configurable: true, get: () => process.stderr })
  Object.defineProperty(globalThis, 'console', { configurable: true, writable: true, value: new Console({ stdout: process.stderr, stderr: process.stderr }) })
}

async function main(): Promise<void> {
  const [entryPath, manifestJson] = process.argv.slice(2)
  const env = process.env
  const id = env.POLYPLUG_PLUGIN_ID ?? 'unknown'
  if (!entryPath || !manifestJson) throw new Error('usage: process-carrier <entryPath> <manifest JSON>')
  const hostPid = Number(env.POLYPLUG_HOST_PID)
  if (hostPid > 0) watchHost(hostPid, () => process.exit(0))
  if (isNetworked(env)) return serveNetworked(entryPath, JSON.parse(manifestJson) as Manifest, env)
  const stdio = (env.POLYPLUG_TRANSPORT ?? 'stdio') === 'stdio'
  const channel = await connectPlugin(env)
  if (stdio) guardStdout()
  channel.onClose(() => process.exit(0))
  const codec = env.POLYPLUG_ENCODING === 'msgpack' ? msgpackCodec : jsonCodec
  try {
    const manifest = JSON.parse(manifestJson) as Manifest
    const definition = await loadPlugin({ id, entryPath, manifest })
    servePlugin(channel, definition, { id, codec, onShutdown: () => process.exit(0) })
  } catch (error) {
    serveLoadError(channel, id, error, codec)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`polyplug carrier: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
