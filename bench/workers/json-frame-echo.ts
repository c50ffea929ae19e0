// The floor of a JSON-RPC sidecar in Node: a hand-written child that does the least any JSON-RPC
// echo must (json-frame-answer.ts: JSON.parse and JSON.stringify per frame, the answers of one read
// in one write) over the same channel as the raw echo. No polyplug code runs in this process
// (docs/performance.md, throughput).
import { openSidecarStreams } from './sidecar-streams.js'
import { jsonFrameAnswerer } from './json-frame-answer.js'

const { readable, writable } = openSidecarStreams()
readable.on('data', jsonFrameAnswerer(writable))
readable.on('end', () => process.exit(0))
