// `lines`: a transport that is not part of polyplug, registered by the application. Messages are
// JSON text, one per line, over a loopback TCP connection that the plugin opens to the host.
// Importing this module registers it; `url` lets polyplug's process carrier import it too, so a
// js plugin placed in a process speaks it with no code of its own.
import { createServer, connect } from 'node:net'
import { ErrorCodes, PolyplugError, registerTransport } from 'polyplug/registry'
import { normalizeChannel } from 'polyplug/rpc'

const ADDRESS = 'POLYPLUG_LINES_ADDRESS'

/** A channel of text messages over `socket`, one message per line; a line longer than `maxBytes` ends it. */
export function lineChannel(socket, maxBytes) {
  return normalizeChannel({
    carries: 'text',
    open(sink) {
      let pending = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk) => {
        pending += chunk
        let end
        while ((end = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, end)
          pending = pending.slice(end + 1)
          if (line) sink.message(line)
        }
        if (pending.length > maxBytes) {
          sink.closed(new PolyplugError(ErrorCodes.FRAME_TOO_LARGE, `a line exceeds ${maxBytes} bytes`))
          socket.destroy()
        }
      })
      socket.on('error', (error) => sink.closed(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `lines: ${error.message}`, { cause: error })))
      socket.on('close', () => sink.closed())
    },
    // JSON text never holds a raw newline: JSON.stringify escapes it.
    send(text) {
      return new Promise((resolve, reject) => socket.write(`${text}\n`, (error) => (error ? reject(new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, error.message)) : resolve())))
    },
    close() {
      socket.end()
    },
  })
}

/** The host side: listen on loopback, tell the plugin where, take its one connection. */
const hostSide = {
  name: 'lines',
  async prepare(context) {
    const server = createServer({ noDelay: true })
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    return {
      env: { [ADDRESS]: `127.0.0.1:${server.address().port}` },
      // The sandbox lets a process plugin connect only where its endpoint says (docs/confinement.md).
      network: { connect: [server.address().port] },
      usesStdio: false,
      connect(_child, signal) {
        return new Promise((resolve, reject) => {
          const onAbort = () => reject(signal.reason)
          if (signal.aborted) return onAbort()
          signal.addEventListener('abort', onAbort, { once: true })
          server.once('connection', (socket) => {
            signal.removeEventListener('abort', onAbort)
            server.on('connection', (late) => late.destroy()) // one plugin, one connection
            resolve(lineChannel(socket, context.maxFrameBytes))
          })
        })
      },
      async dispose() {
        server.close()
      },
    }
  },
}

/** The plugin side, as polyplug's Node process carrier runs it: connect, then serve the plugin on the channel. */
const pluginSide = {
  async open({ env, exit, maxFrameBytes }) {
    const [host, port] = (env[ADDRESS] ?? '').split(':')
    const socket = connect({ host, port: Number(port), noDelay: true })
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const channel = lineChannel(socket, maxFrameBytes)
    channel.onClose(exit)
    return async (serve) => serve(channel)
  },
}

export const linesTransport = {
  name: 'lines',
  description: 'process: JSON text, one message per line, over loopback TCP',
  sidecar: { host: async () => hostSide, plugin: async () => pluginSide },
  url: import.meta.url,
}

registerTransport(linesTransport)
