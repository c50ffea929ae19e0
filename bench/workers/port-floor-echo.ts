// The floor of any RPC over a worker's port, the worker's side: each request `{id, method, params}`
// answered `{id, result}` with `params[0]` as the result (bench/port-peers.ts `floorPort`). No
// dispatch table, checks, errors or batching: the least an echo that names its calls must clone.
import { parentPort } from 'node:worker_threads'
import { floorAnswer } from '../port-floor.js'

const port = parentPort
port?.on('message', (request: unknown) => port.postMessage(floorAnswer(request)))
