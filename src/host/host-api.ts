/**
 * The API plugins call on the host (`host/...` methods), the same from every kind and placement.
 * Every call is checked against the calling plugin's granted scopes here, at the RPC boundary,
 * before any host code runs; a refusal is PERMISSION_DENIED naming the plugin, method and scope,
 * and is logged.
 */
import type { Peer } from '../rpc/peer.js'
import { invokeWithContext } from '../rpc/invoke.js'
import { PluginCall } from '../rpc/plugin-call.js'
import type { CallContext } from '../rpc/types.js'
import { toPolyplugError } from '../rpc/errors.js'
import type { Grants } from './permissions.js'

export const HOST_VERSION = '0.1.0'

/** What a host API function learns about its caller. */
export interface HostCallContext extends CallContext {
  /** The id of the calling plugin. */
  readonly plugin: string
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostApiFunction = (...args: any[]) => unknown

/** Application-provided host API: `{ greet(name, ctx) {...} }` becomes `host/greet` for plugins. */
export type HostApi = Record<string, HostApiFunction>

/** The host services behind the built-in API, for one calling plugin. */
export interface HostServices {
  config(): Record<string, unknown>
  storageGet(key: string): unknown
  storageSet(key: string, value: unknown): void
  storageDelete(key: string): void
  storageKeys(): string[]
  commandsList(): unknown[]
  commandsExecute(id: string, args: unknown[]): Promise<unknown>
  eventsPublish(topic: string, payload: unknown): Promise<number>
  eventsSubscribe(topic: string, method: string): number
  eventsUnsubscribe(id: number): void
  hooksTap(hook: string, method: string, order: unknown): number
  /** Calls another plugin; allowed for declared dependencies and `plugins.call:<id>` grants. */
  pluginsCall(target: string, method: string, args: unknown[], context: HostCallContext): Promise<unknown>
}

interface Builtin {
  /** The scope a call needs, from its arguments; undefined = every plugin may call it. */
  scope?: (args: unknown[]) => string | undefined
  run: (args: unknown[], context: HostCallContext) => unknown
}

const str = (v: unknown) => String(v)

function builtins(plugin: string, s: HostServices): Record<string, Builtin> {
  return {
    info: { run: () => ({ name: 'polyplug', version: HOST_VERSION, plugin, pid: process.pid }) },
    echo: { run: ([value]) => value },
    'config.get': { run: ([key]) => (key === undefined ? s.config() : s.config()[str(key)]) },
    'storage.get': { scope: () => 'storage', run: ([key]) => s.storageGet(str(key)) ?? null },
    'storage.set': { scope: () => 'storage', run: ([key, value]) => s.storageSet(str(key), value) ?? null },
    'storage.delete': { scope: () => 'storage', run: ([key]) => s.storageDelete(str(key)) ?? null },
    'storage.keys': { scope: () => 'storage', run: () => s.storageKeys() },
    'commands.list': { run: () => s.commandsList() },
    'commands.execute': { scope: ([id]) => `commands.execute:${str(id)}`, run: ([id, args]) => s.commandsExecute(str(id), Array.isArray(args) ? args : []) },
    'events.publish': { scope: ([topic]) => `events.publish:${str(topic)}`, run: ([topic, payload]) => s.eventsPublish(str(topic), payload) },
    'events.subscribe': { scope: ([topic]) => `events.subscribe:${str(topic)}`, run: ([topic, method]) => s.eventsSubscribe(str(topic), str(method)) },
    'events.unsubscribe': { run: ([id]) => s.eventsUnsubscribe(Number(id)) ?? null },
    'hooks.tap': { scope: ([hook]) => `hooks.tap:${str(hook)}`, run: ([hook, method, order]) => s.hooksTap(str(hook), str(method), order) },
    // Checked inside: a declared dependency needs no grant.
    'plugins.call': { run: ([target, method, args], ctx) => s.pluginsCall(str(target), str(method), Array.isArray(args) ? args : [], ctx) },
  }
}

export interface HostApiRegistration {
  /** Application functions, callable as `host/<name>` with the `api:<name>` scope (or by all, if listed in `publicApi`). */
  api: HostApi
  publicApi: readonly string[] | true
  grants: Grants
  services: HostServices
  onDenied(scope: string, method: string): void
}

/** Registers the built-in and application host API on one plugin's peer, as `host/<name>`. */
export function registerHostApi(peer: Peer, plugin: string, r: HostApiRegistration): void {
  const context = (call: CallContext): HostCallContext => new PluginCall(call, plugin)
  const guard = (scope: string | undefined, method: string) => {
    if (scope === undefined || r.grants.allows(scope)) return
    r.onDenied(scope, method)
    r.grants.require(scope, method)
  }
  for (const [name, b] of Object.entries(builtins(plugin, r.services))) {
    peer.handle(`host/${name}`, (params, call) => {
      const args = Array.isArray(params) ? params : params === undefined ? [] : [params]
      guard(b.scope?.(args), call.method)
      try {
        return b.run(args, context(call))
      } catch (error) {
        throw toPolyplugError(error).withContext(plugin, call.method)
      }
    })
  }
  for (const [name, fn] of Object.entries(r.api)) {
    const open = r.publicApi === true || r.publicApi.includes(name)
    peer.handle(`host/${name}`, (params, call) => {
      guard(open ? undefined : `api:${name}`, call.method)
      return invokeWithContext(fn, undefined, params, context(call))
    })
  }
}
