/** What an operator may do to a plugin from the dashboard, each through the host's public API. */
import type { Host } from '../index.js'

export interface ActionRequest {
  /** For `call`: the method and its positional arguments. */
  method?: unknown
  args?: unknown
}

type Action = (host: Host, id: string, body: ActionRequest) => Promise<unknown>

export const ACTIONS: Record<string, Action> = {
  activate: (host, id) => host.plugin(id).activate('dashboard'),
  stop: (host, id) => host.plugin(id).stop(),
  restart: async (host, id) => {
    await host.plugin(id).stop()
    await host.plugin(id).activate('dashboard:restart')
  },
  reload: (host, id) => host.reload(id),
  enable: (host, id) => host.setEnabled(id, true),
  disable: (host, id) => host.setEnabled(id, false),
  reset: async (host, id) => host.plugin(id).reset(),
  call: (host, id, body) => {
    if (typeof body.method !== 'string' || body.method === '' || body.method.startsWith('$/')) {
      return Promise.reject(Object.assign(new Error('call needs {"method": "name", "args": [...]} (reserved $/ methods are not callable)'), { code: 'INVALID_PARAMS' }))
    }
    if (body.args !== undefined && !Array.isArray(body.args)) {
      return Promise.reject(Object.assign(new Error('"args" must be a JSON array of positional arguments'), { code: 'INVALID_PARAMS' }))
    }
    return host.plugin(id).call(body.method, (body.args as unknown[] | undefined) ?? [])
  },
}
