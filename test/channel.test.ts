import { MessageChannel } from 'node:worker_threads'
import { createMemoryPair } from '../src/channels/memory.js'
import { portChannel } from '../src/transports/port.js'
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
