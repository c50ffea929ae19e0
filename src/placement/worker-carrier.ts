/** Runs inside the worker thread: loads the plugin and serves it over parentPort. */
import { parentPort, workerData } from 'node:worker_threads'
import { loadJsPlugin } from '../kinds/js.js'
import { Peer } from '../rpc/peer.js'
import { Reserved } from '../rpc/wire.js'
import { servePlugin } from '../sdk/serve.js'
import { portChannel } from '../transports/port.js'

export interface CarrierData {
  id: string
  kind: string
  entryPath: string
}

if (parentPort) {
  const data = workerData as CarrierData
  const port = parentPort
  const channel = portChannel(port)
  try {
    const definition = await loadJsPlugin(data.entryPath, data.id)
    servePlugin(channel, definition, { id: data.id, onShutdown: () => process.exit(0) })
  } catch (error) {
    // Answer the handshake with the load error, so the host reports why instead of "crashed".
    new Peer(channel, { name: data.id }).handle(Reserved.hello, () => {
      throw error
    })
  }
}
