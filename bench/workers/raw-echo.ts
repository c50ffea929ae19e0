// The raw baseline for `port`: a hand-written postMessage echo.
import { parentPort } from 'node:worker_threads'

parentPort?.on('message', (message: unknown) => parentPort?.postMessage(message))
