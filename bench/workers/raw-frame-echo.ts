// The raw baseline for byte-stream sidecars: a hand-written child that opens the same transport
// from the same environment variables and copies every byte back (an echo preserves framing).
// No polyplug code runs in this process.
import { openSidecarStreams } from './sidecar-streams.js'

const { readable, writable } = openSidecarStreams()
readable.pipe(writable)
readable.on('end', () => process.exit(0))
