/**
 * The bare baseline for a js plugin out of the host's thread: the same plugin module, imported by
 * hand and driven by a hand-written echo, with no polyplug runtime around it. As a worker it
 * answers each postMessage; as a child process it answers each line of stdin (one JSON value).
 */
import { createInterface } from 'node:readline'
import { parentPort, workerData } from 'node:worker_threads'

interface Plugin { default: { methods: { echo(value: unknown): unknown } } }

const entry = (parentPort ? (workerData as { entry: string }).entry : process.argv[2]) ?? ''
const { echo } = ((await import(entry)) as Plugin).default.methods
const port = parentPort
if (port) {
  port.on('message', (value: unknown) => port.postMessage(echo(value)))
} else {
  for await (const line of createInterface({ input: process.stdin })) process.stdout.write(`${JSON.stringify(echo(JSON.parse(line)))}\n`)
}
