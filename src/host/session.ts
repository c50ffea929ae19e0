/**
 * Wires one plugin session's host API: its grants, and the host services behind each built-in
 * `host/...` method, bound to the calling plugin. Run-time registrations (event subscriptions,
 * hook handlers) are tracked so the host releases them when the session ends.
 */
import type { Peer } from '../rpc/peer.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import type { Commands } from './commands.js'
import type { Dispatch, Disposable } from './dispatch.js'
import type { Events } from './events.js'
import { registerHostApi, type HostApi, type HostServices } from './host-api.js'
import type { HookOrder, Hooks } from './hooks.js'
import type { HostLogger } from './log.js'
import { Grants, type GrantPolicy } from './permissions.js'
import type { PluginRuntime } from './plugin.js'

export interface SessionDeps {
  api: HostApi
  publicApi: readonly string[] | true
  policy: GrantPolicy | undefined
  logger: HostLogger
  dispatch: Dispatch
  commands: Commands
  events: Events
  hooks: Hooks
  config(): Record<string, unknown>
  storage(): { get(key: string): unknown; set(key: string, value: unknown): void; delete(key: string): void; keys(): string[] }
  track(dispose: Disposable): void
  /** The APIs a plugin provides (manifest `provides`). */
  provides(plugin: string): Record<string, string> | undefined
}

const ORDERS: readonly HookOrder[] = ['pre', 'normal', 'post']

export function createSession(peer: Peer, runtime: PluginRuntime, deps: SessionDeps): void {
  const id = runtime.id
  const manifest = runtime.manifest
  const requested = manifest.permissions?.host ?? []
  const grants = new Grants(id, deps.policy ? deps.policy(id, requested) : requested)
  const registrations = new Map<number, Disposable>()
  let next = 1
  const register = (dispose: Disposable): number => {
    const handle = next++
    registrations.set(handle, dispose)
    deps.track(() => {
      registrations.delete(handle)
      dispose()
    })
    return handle
  }

  const services: HostServices = {
    config: deps.config,
    storageGet: (key) => deps.storage().get(key),
    storageSet: (key, value) => deps.storage().set(key, value),
    storageDelete: (key) => deps.storage().delete(key),
    storageKeys: () => deps.storage().keys(),
    commandsList: () => deps.commands.list(),
    commandsExecute: (command, args) => deps.commands.execute(command, ...args),
    eventsPublish: (topic, payload) => deps.events.publish(topic, payload, id),
    eventsSubscribe: (topic, method) => register(deps.events.addPluginSubscription(topic, id, method)),
    eventsUnsubscribe: (handle) => {
      registrations.get(handle)?.()
      registrations.delete(handle)
    },
    hooksTap: (hook, method, order) => {
      const o = ORDERS.includes(order as HookOrder) ? (order as HookOrder) : 'normal'
      return register(deps.hooks.addPluginHandler(hook, id, method, o))
    },
    pluginsCall: (target, method, args, context) => {
      // A declared dependency (by plugin id or provided-API name) may be called; anything else needs `plugins.call:<id>`.
      const declared = manifest.dependencies?.[target] !== undefined
      const resolved = runtime.dependencies.find((dep) => dep === target) ?? (declared ? runtime.dependencies.find((dep) => deps.provides(dep)?.[target] !== undefined) : undefined)
      let callee = resolved
      if (callee === undefined) {
        const scope = `plugins.call:${target}`
        if (!grants.allows(scope)) {
          deps.logger({ level: 'warn', plugin: id, message: `PERMISSION_DENIED: host/plugins.call to "${target}" (not a declared dependency, no "${scope}" grant)` })
          grants.require(scope, 'host/plugins.call')
        }
        callee = target
      }
      if (callee === id) throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `plugin "${id}" cannot call itself through the host`, { plugin: id })
      return deps.dispatch.call(callee, method, args, `onMethod:${method}`, { signal: context.signal, traceparent: context.traceparent })
    },
  }

  registerHostApi(peer, id, {
    api: deps.api,
    publicApi: deps.publicApi,
    grants,
    services,
    onDenied: (scope, method) => deps.logger({ level: 'warn', plugin: id, message: `PERMISSION_DENIED: ${method} needs "${scope}"` }),
  })
}
