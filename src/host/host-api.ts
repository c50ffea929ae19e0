/** The API plugins call on the host (`host/...` methods), the same from every kind and placement. */
import type { Peer } from '../rpc/peer.js'
import { invokeWithContext } from '../rpc/invoke.js'
import type { CallContext } from '../rpc/types.js'

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

function builtins(plugin: string): HostApi {
  return {
    info: () => ({ name: 'polyplug', version: HOST_VERSION, plugin, pid: process.pid }),
    echo: (value: unknown) => value,
  }
}

/** Registers the built-in and application host API on one plugin's peer, as `host/<name>`. */
export function registerHostApi(peer: Peer, plugin: string, api: HostApi): void {
  for (const [name, fn] of Object.entries({ ...builtins(plugin), ...api })) {
    peer.handle(`host/${name}`, (params, call) => {
      const context: HostCallContext = {
        get signal() {
          return call.signal
        },
        plugin,
        method: call.method,
        progress: call.progress,
      }
      return invokeWithContext(fn, undefined, params, context)
    })
  }
}
