/**
 * The `port` baselines, each in its own worker: a hand-written postMessage echo (the raw
 * baseline) and two peer libraries serving the same echo, birpc and comlink. All three answer
 * in order, so a FIFO of waiters pairs replies with calls however many are in flight.
 */
import { Worker } from 'node:worker_threads'
import { createBirpc } from 'birpc'
import { wrap, type Remote } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'

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
