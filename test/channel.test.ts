import { MessageChannel } from 'node:worker_threads'
import { createMemoryPair } from '../src/channels/memory.js'
import { portChannel } from '../src/transports/port.js'
import { atomicsDoorbell } from '../src/transports/shm/atomics-doorbell.js'
import { shmChannel } from '../src/transports/shm/channel.js'
import { initRegion, regionSize } from '../src/transports/shm/layout.js'
import { describeChannel } from './support/channel-suite.js'

describeChannel('in-memory pair (direct)', async () => {
  const [host, plugin] = createMemoryPair()
  return { host, plugin }
})

describeChannel('in-memory pair carrying bytes', async () => {
  const [host, plugin] = createMemoryPair({ carries: 'bytes' })
  return { host, plugin }
})

describeChannel('port (MessageChannel)', async () => {
  const { port1, port2 } = new MessageChannel()
  return { host: portChannel(port1), plugin: portChannel(port2) }
})

describeChannel('shm (SharedArrayBuffer, Atomics doorbell)', async () => {
  const buffer = new SharedArrayBuffer(regionSize(64 * 1024))
  initRegion(buffer, 64 * 1024)
  return {
    host: shmChannel({ role: 'host', buffer, doorbell: atomicsDoorbell(buffer, 'host') }),
    plugin: shmChannel({ role: 'plugin', buffer, doorbell: atomicsDoorbell(buffer, 'plugin') }),
  }
})
