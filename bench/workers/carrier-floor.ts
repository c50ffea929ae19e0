/**
 * Worker for the footprint bench's carrier floor: what a bundled worker carrier costs before any
 * plugin session. It imports the carrier's file (dist/src/carriers/worker-carrier.js: read,
 * compiled, its top level run) with no plugin to serve — the carrier stops at once, finding no
 * transport link for an empty manifest — and then answers as the bare worker does (`then`:
 * raw-wasm.js or bare-native.js, by its own workerData). A polyplug worker plugin pays this plus its
 * session (the Peer on both sides, the handshake, the kind's loader); the bare side pays neither.
 */
import { workerData } from 'node:worker_threads'

const { carrier, then } = workerData as { carrier: string; then: string }
await import(carrier).catch(() => {
  // the expected stop: no plugin to serve
})
await import(then)
