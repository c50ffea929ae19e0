/**
 * The `port` baselines, each in its own worker: a hand-written postMessage echo (the raw
 * baseline), the floor of any RPC over a port (./port-floor.ts: ids, a Map, a request and an
 * answer object) and two peer libraries serving the same echo, birpc and comlink. The raw echo
 * answers in order, so a FIFO of waiters pairs its replies with calls however many are in flight.
 */
import { Worker } from 'node:worker_threads'
import { createBirpc } from 'birpc'
import { wrap, type Remote } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { floorCaller } from './port-floor.js'

export interface PortEcho {
  echo(value: unknown): Promise<unknown>
  close(): Promise<void>
}

const script = (name: string) => new URL(`./workers/${name}`, import.meta.url)

export function rawPort(): PortEcho {
  const worker = new Worker(script('raw-echo.js'))
  const waiters: ((v: unknown) => void)[] = []
  worker.on('message', (m) => waiters.shift()?.(m))
  return {
    echo: (value) => new Promise((resolve) => {
      waiters.push(resolve)
      worker.postMessage(value)
    }),
    close: async () => void (await worker.terminate()),
  }
}

/** The floor of any RPC over the worker's port: `{id, method, params}` out, `{id, result}` back, by id. */
export function floorPort(): PortEcho {
  const worker = new Worker(script('port-floor-echo.js'))
  const call = floorCaller((request) => worker.postMessage(request), (onAnswer) => worker.on('message', onAnswer))
  return { echo: (value) => call('echo', [value]), close: async () => void (await worker.terminate()) }
}

export function birpcPort(): PortEcho {
  const worker = new Worker(script('birpc-echo.js'))
  const rpc = createBirpc<{ echo(x: unknown): unknown }>({}, {
    post: (data: unknown) => worker.postMessage(data),
    on: (fn: (data: unknown) => void) => worker.on('message', fn),
  })
  return { echo: (value) => rpc.echo(value), close: async () => void (await worker.terminate()) }
}

export function comlinkPort(): PortEcho {
  const worker = new Worker(script('comlink-echo.js'))
  const remote: Remote<{ echo(x: unknown): unknown }> = wrap(nodeEndpoint(worker))
  return { echo: (value) => remote.echo(value), close: async () => void (await worker.terminate()) }
}
