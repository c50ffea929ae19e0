// The peer library baseline for `port`: birpc serving the same echo.
import { parentPort } from 'node:worker_threads'
import { createBirpc } from 'birpc'

const port = parentPort
if (port) {
  createBirpc({ echo: (x: unknown) => x }, {
    post: (data: unknown) => port.postMessage(data),
    on: (fn: (data: unknown) => void) => port.on('message', fn),
  })
}
