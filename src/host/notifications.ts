/**
 * The application's subscriptions to one plugin's notifications (e.g. a language server's
 * `textDocument/publishDiagnostics`). They outlive sessions: each trusted session's peer (after the
 * token check, or a handshake-less sidecar once started) is given a handler per subscribed method.
 */
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { Peer } from '../rpc/peer.js'
import type { Disposable } from './dispatch.js'

export type NotificationListener = (params: unknown) => void

/** Names a plugin cannot send to the application: the protocol's own and the host API's. */
const RESERVED_PREFIXES = ['$/', 'host/']

export class PluginNotifications {
  readonly #plugin: string
  readonly #listeners = new Map<string, Set<NotificationListener>>()
  readonly #report: (method: string, error: unknown) => void
  #peer: Peer | undefined

  constructor(plugin: string, report: (method: string, error: unknown) => void) {
    this.#plugin = plugin
    this.#report = report
  }

  /** Calls `listener` with the params of every `method` notification the plugin sends, until disposed. */
  on(method: string, listener: NotificationListener): Disposable {
    if (typeof method !== 'string' || method === '' || RESERVED_PREFIXES.some((p) => method.startsWith(p))) {
      throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `cannot subscribe to ${JSON.stringify(method)}: names starting with $/ or host/ belong to the protocol; subscribe to the plugin's own notifications`, {
        plugin: this.#plugin,
      })
    }
    let set = this.#listeners.get(method)
    if (!set) {
      set = new Set()
      this.#listeners.set(method, set)
      if (this.#peer && !this.#peer.closed) this.#serve(this.#peer, method)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
    }
  }

  /** A trusted session started: its notifications reach the subscribers from now on. */
  attach(peer: Peer): void {
    this.#peer = peer
    for (const method of this.#listeners.keys()) this.#serve(peer, method)
  }

  #serve(peer: Peer, method: string): void {
    peer.handle(method, (params) => {
      for (const listener of [...(this.#listeners.get(method) ?? [])]) {
        try {
          listener(params)
        } catch (error) {
          this.#report(method, error)
        }
      }
    })
  }
}
