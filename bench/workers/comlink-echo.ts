// The second peer library for `port`: comlink exposing the same echo over the worker's port.
import { parentPort } from 'node:worker_threads'
import { expose } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'

if (parentPort) expose({ echo: (x: unknown) => x }, nodeEndpoint(parentPort))
