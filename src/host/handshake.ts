/**
 * polyplug's start handshake as the host runs it (docs/protocol.md §5): `$/hello` (protocol
 * version, and the launch token a network plugin must echo), then `$/activate` with its settings.
 * Each step fails with its own code, naming the plugin.
 */
import type { Peer } from '../rpc/peer.js'
import { PolyplugError, toPolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { Reserved } from '../rpc/wire.js'
import { PROTOCOL_VERSION, type HelloParams, type HelloResult } from '../sdk/protocol.js'
import { HOST_VERSION } from './host-api.js'
import type { LogLevel } from './log.js'

export interface HelloRequest {
  id: string
  /** The secret the launcher gave the plugin; its answer must carry it. */
  token?: string | undefined
  timeoutMs: number
  /** What the host offers (`binary`: bytes as attachments, docs/protocol.md §4.1). */
  capabilities?: string[]
}

/** Sends `$/hello` and checks the answer: PLUGIN_START_TIMEOUT, PROTOCOL_MISMATCH, or PERMISSION_DENIED without the token. */
export async function hello(peer: Peer, { id, token, timeoutMs, capabilities }: HelloRequest): Promise<HelloResult> {
  const answer = await peer.call<HelloResult>(Reserved.hello, helloParams(id, capabilities) as unknown as Record<string, unknown>, { timeout: timeoutMs }).catch((error: unknown) => {
    throw toPolyplugError(error).code === ErrorCodes.RPC_TIMEOUT
      ? new PolyplugError(ErrorCodes.PLUGIN_START_TIMEOUT, `no handshake within ${timeoutMs} ms`, { plugin: id })
      : error
  })
  if (answer?.protocol !== PROTOCOL_VERSION) {
    throw new PolyplugError(ErrorCodes.PROTOCOL_MISMATCH, `the plugin answered $/hello with protocol ${JSON.stringify(answer?.protocol)}; this host speaks protocol ${PROTOCOL_VERSION} (docs/protocol.md §5)`, { plugin: id })
  }
  if (token !== undefined && answer.token !== token) {
    throw new PolyplugError(ErrorCodes.PERMISSION_DENIED, 'the plugin answered $/hello without the launch token', { plugin: id })
  }
  return answer
}

function helloParams(id: string, capabilities: string[] | undefined): HelloParams {
  return { protocol: [PROTOCOL_VERSION], plugin: id, host: { name: 'polyplug', version: HOST_VERSION, pid: process.pid }, encodings: ['json', 'msgpack'], ...(capabilities ? { capabilities } : {}) }
}

export interface ActivateRequest {
  id: string
  config: Record<string, unknown>
  /** The activation event, e.g. `onMethod:echo`. */
  reason: string
  logLevel: LogLevel
  /** What the previous session's `deactivate` returned (a reload), if anything. */
  handoff?: unknown
  timeoutMs: number
}

/** Sends `$/activate`; a plugin whose `activate` fails or times out fails with ACTIVATION_FAILED (its own code in `data.code`). */
export async function activate(peer: Peer, { id, config, reason, logLevel, handoff, timeoutMs }: ActivateRequest): Promise<void> {
  const params = { config, reason, logLevel, ...(handoff === undefined ? {} : { state: handoff }) }
  await peer.call(Reserved.activate, params, { timeout: timeoutMs }).catch((error: unknown) => {
    const e = toPolyplugError(error)
    throw new PolyplugError(ErrorCodes.ACTIVATION_FAILED, `activate failed: ${e.message}`, { plugin: id, cause: e, data: { code: e.code } })
  })
}
