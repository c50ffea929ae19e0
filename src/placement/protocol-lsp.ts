/**
 * Handshake-less sidecars: an existing language server (manifest `sidecar.protocol: "lsp"`) speaks
 * JSON-RPC with Content-Length framing but knows nothing of `$/hello`, the launch token or
 * `$/activate`. The host skips those, calls whatever methods the caller names (`initialize`,
 * `textDocument/...`), cancels with `$/cancelRequest`, and stops it the LSP way: `shutdown`
 * request, then `exit` notification. Its notifications reach the application's `onNotification`.
 * Such a plugin is never served the host API: it has not proven itself with the token.
 *
 * `initialize` reaches the server with `processId: null`. A server given a process id polls it with
 * signal 0 and exits when that fails (vscode-languageserver does, every 3 s); the sandbox scopes
 * signals to the plugin's own processes, so the poll fails although the host lives, and the server
 * would exit 3 s after starting. Its lifetime is the host's business anyway: a process plugin ends
 * with its host (docs/confinement.md), which is what the process id was for.
 */
import type { Peer } from '../rpc/peer.js'
import { Reserved } from '../rpc/wire.js'
import type { MessageProtocol } from './protocol.js'

/** How long a language server has to answer `shutdown` before it is killed anyway. */
const LSP_SHUTDOWN_MS = 2000

/** LSP's orderly stop: `shutdown` (the server answers null), then the `exit` notification. */
async function stopLsp(peer: Peer): Promise<null> {
  await peer.call('shutdown', undefined, { timeout: LSP_SHUTDOWN_MS }).catch(() => {})
  await peer.notify('exit').catch(() => {})
  return null
}

/**
 * LSP passes params by name: `call('initialize', [params])` sends `params` itself; no argument sends
 * none. `initialize`'s `processId` becomes null (see above).
 */
export function lspParams(args: unknown[], method?: string): unknown[] | Record<string, unknown> | undefined {
  if (args.length === 0) return undefined
  const [only] = args
  if (args.length === 1 && typeof only === 'object' && only !== null && !Array.isArray(only)) {
    const params = only as Record<string, unknown>
    return method === 'initialize' && typeof params.processId === 'number' ? { ...params, processId: null } : params
  }
  return args
}

export const lspProtocol: MessageProtocol = {
  name: 'lsp',
  framing: 'content-length',
  handshake: false,
  cancelMethod: Reserved.cancelRequest, // a language server knows only LSP's name
  params: lspParams,
  stop: stopLsp,
}
