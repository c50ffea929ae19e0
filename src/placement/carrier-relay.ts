/**
 * A kind whose synchronous host calls wait on a sync bridge (wasm) cannot wait on the process
 * carrier's main thread: the answer arrives through that thread's event loop, which the waiting
 * guest would stop. So in a process the carrier runs such a plugin in a worker of its own (the
 * `worker` placement over `port`, with its bridge) and relays whole messages between the host's
 * channel and the worker: decoded from the host's wire into objects for the worker, encoded back
 * the other way. The host sees an ordinary process plugin; the guest sees an ordinary worker.
 */
import { dirname } from 'node:path'
import type { Channel } from '../channels/channel.js'
import type { Manifest } from '../manifest/schema.js'
import { parse, stringify, type Codec } from '../rpc/codec.js'
import { PolyplugError, RpcErrorCodes } from '../rpc/errors.js'
import { errorToWire, Reserved } from '../rpc/wire.js'
import { registerBuiltinsFor } from '../registry/builtins.js'
import { launchWorker } from './worker.js'

export interface RelayRequest {
  id: string
  entryPath: string
  manifest: Manifest
  codec: Codec
  /** Ends the carrier: called once the worker has ended (after `$/shutdown`, or a crash). */
  exit: (code: number) => void
}

/** Serves the plugin on `outer` from a worker started for this session. */
export async function relayThroughWorker(outer: Channel, request: RelayRequest): Promise<void> {
  const { id, entryPath, codec } = request
  const manifest: Manifest = { ...request.manifest, placement: 'worker', transport: 'port' }
  await registerBuiltinsFor(manifest) // the carrier registered its host-facing transport, not `port`
  const launched = await launchWorker({ id, loaded: { manifest, dir: dirname(entryPath), file: entryPath, entryPath } })
  const inner = launched.channel
  const text = outer.carries === 'text'
  const encode = (message: unknown) => (text ? stringify(message) : codec.encode(message))
  const decode = (raw: unknown) => (text ? parse(raw as string) : codec.decode(raw as Uint8Array))
  let shuttingDown = false
  let lastSend: Promise<unknown> = Promise.resolve()
  outer.onMessage((raw) => {
    let message: unknown
    try {
      message = decode(raw)
    } catch (cause) {
      const error = new PolyplugError(RpcErrorCodes.PARSE_ERROR, `message is not valid ${codec.name}: ${(cause as Error).message}`, { plugin: id })
      void outer.send(encode({ jsonrpc: '2.0', id: null, error: errorToWire(error) }))
      return
    }
    if ((message as { method?: unknown } | null)?.method === Reserved.shutdown) shuttingDown = true
    if (!inner.closed) void inner.send(message)
  })
  inner.onMessage((message) => {
    if (!outer.closed) lastSend = Promise.resolve(outer.send(encode(message))).catch(() => undefined)
  })
  outer.onClose(() => void launched.kill())
  // The worker ends after `$/shutdown` (its answer already relayed) or by crashing: the carrier ends
  // with it, so the host sees the process exit it expects, or a crash with the worker's reason.
  inner.onClose((error) => {
    const crashed = !shuttingDown && error !== undefined
    if (crashed) process.stderr.write(`polyplug carrier: ${error.message}\n`)
    void lastSend.then(() => request.exit(crashed ? 1 : 0))
  })
}
