// The raw baseline for `shm` in a worker: echoes every ring message straight back, no RPC, no
// codec. A thread that does nothing else may block, so it sleeps in Atomics.wait.
import { workerData } from 'node:worker_threads'
import { checkRegion, Word } from '../../src/transports/shm/layout.js'
import { nativeByteOps } from '../../src/transports/shm/native.js'
import { ringsFor } from '../../src/transports/shm/ring.js'

// workerData: the region, or { region, spinMicros } to poll that long before each sleep.
const data = workerData as SharedArrayBuffer | { region: SharedArrayBuffer; spinMicros: number }
const buffer = data instanceof SharedArrayBuffer ? data : data.region
const spinMs = data instanceof SharedArrayBuffer ? 0 : data.spinMicros / 1000
const { writer, reader } = ringsFor('plugin', buffer, checkRegion(buffer), { maxMessageBytes: 1 << 30, bytes: nativeByteOps() })
const words = new Int32Array(buffer, 0, 8)
const wakeHost = () => {
  Atomics.add(words, Word.hostWake, 1)
  Atomics.notify(words, Word.hostWake)
}

for (;;) {
  const seen = Atomics.load(words, Word.pluginWake)
  if (Atomics.load(words, Word.hostState) !== 0) break
  for (let m = reader.read(); m; m = reader.read()) {
    writer.begin(m)
    for (;;) {
      const before = Atomics.load(words, Word.pluginWake)
      const done = writer.pump()
      if (writer.takeConsumerWaiting()) wakeHost()
      if (done) break
      if (writer.prepareSleep()) Atomics.wait(words, Word.pluginWake, before, 5)
    }
    if (reader.takeProducerWaiting()) wakeHost()
  }
  if (reader.takeProducerWaiting()) wakeHost()
  if (spinMs > 0) {
    const until = performance.now() + spinMs
    while (!reader.readable && performance.now() < until) {
      // poll
    }
    if (reader.readable) continue
  }
  if (reader.prepareSleep()) Atomics.wait(words, Word.pluginWake, seen)
}
