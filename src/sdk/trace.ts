/**
 * Trace context inside a plugin: a method called with a `traceparent` gets a PluginContext whose
 * host calls carry it on, so the work the plugin causes joins the caller's trace
 * (docs/protocol.md, trace context). A plugin without tracing passes the context through unchanged.
 */
import { createProxy } from '../rpc/proxy.js'
import type { PluginContext } from './define.js'

export function contextFor(plugin: PluginContext, traceparent: string | undefined): PluginContext {
  if (traceparent === undefined) return plugin
  return {
    get id() {
      return plugin.id
    },
    get config() {
      return plugin.config
    },
    get previousState() {
      return plugin.previousState
    },
    get logLevel() {
      return plugin.logLevel
    },
    log: plugin.log,
    call: (method, args, options) => plugin.call(method, args, { traceparent, ...options }),
    host: <Api>() => createProxy<Api>((method, args) => plugin.call(method, args, { traceparent })),
  }
}
