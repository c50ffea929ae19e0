/**
 * The host side of a sidecar transport: how a host reaches a plugin process it starts.
 * A transport is three steps, so http, mqtt and shm plug in as one more implementation:
 *
 *   1. `prepare(context)` before spawn: make what the plugin will connect to (a FIFO pair, a
 *      listening socket) and say how, as environment variables for the plugin.
 *   2. `connect(child, signal)` after spawn: resolve to a Channel once the plugin is there
 *      (accepted its connection, opened its FIFO). Rejects when `signal` aborts (start timeout,
 *      the process exited).
 *   3. `dispose()` after the process is gone: remove files, close servers. Idempotent.
 *
 * The plugin side of each transport is its module's `sidecar.plugin` (src/registry/types.ts,
 * PluginSide), the reference for kits in other languages; the normative text is docs/protocol.md.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { Server, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import type { Channel } from '../channels/channel.js'
import type { FramingName } from '../framing/framing.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

export interface SidecarContext {
  /** The plugin id, for error messages and file names. */
  id: string
  framing: FramingName
  maxFrameBytes: number
  /** The per-launch token (POLYPLUG_TOKEN): network transports present it to the plugin's server. */
  token?: string
  /** The manifest's transportOptions, for the transport to read (and reject when wrong). */
  options?: Record<string, unknown>
}

/** The child's standard streams, as far as the transport needs them. */
export interface ChildStreams {
  stdin: Writable | null
  stdout: Readable | null
}

/** TCP ports the plugin uses for a transport's own channel, which its sandbox must allow. */
export interface EndpointNetwork {
  /** Ports the plugin connects to. */
  readonly connect?: readonly number[]
  /** Ports the plugin binds (0: any ephemeral port). */
  readonly bind?: readonly number[]
}

export interface SidecarEndpoint {
  /** Variables the plugin needs to find this endpoint (POLYPLUG_SOCKET, ...). */
  readonly env: Record<string, string>
  /** True when the channel runs over the child's stdin/stdout; otherwise stdout is a log. */
  readonly usesStdio: boolean
  /** Files the plugin opens to connect (FIFOs), granted to a confined Node carrier. */
  readonly files?: { read: string[]; write: string[] }
  /** TCP ports the plugin's sandbox must allow for this channel (src/placement/sandbox.ts); 0: any ephemeral port. */
  readonly network?: EndpointNetwork
  connect(child: ChildStreams, signal: AbortSignal): Promise<Channel>
  dispose(): Promise<void>
}

export interface SidecarTransport {
  readonly name: string
  prepare(context: SidecarContext): Promise<SidecarEndpoint>
}

/** A fresh directory only this user can enter (mkdtemp creates it 0700). */
export async function privateDir(base = tmpdir()): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(base, 'polyplug-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Resolves with the first connection `server` accepts; rejects when `signal` aborts. */
export function acceptOne(server: Server, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const done = () => {
      server.off('connection', onConnection)
      server.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
    const onConnection = (socket: Socket) => {
      done()
      // One plugin, one connection: later connections are refused (see docs/protocol.md).
      server.on('connection', (late: Socket) => late.destroy())
      resolve(socket)
    }
    const onError = (error: Error) => {
      done()
      reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `listening failed: ${error.message}`, { cause: error }))
    }
    const onAbort = () => {
      done()
      reject(signal.reason)
    }
    if (signal.aborted) return onAbort()
    server.on('connection', onConnection)
    server.on('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Stops listening; resolves without waiting for the connection already handed out to end. */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve()
  return new Promise((resolve) => {
    server.close()
    server.once('close', () => resolve())
    // 'close' waits for open connections; listening stops at once, which is all dispose needs.
    setImmediate(resolve)
  })
}
