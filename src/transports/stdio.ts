/**
 * `stdio`: the channel is the plugin's stdin (host -> plugin) and stdout (plugin -> host); its
 * stderr goes to the host log. Why stdin/stdout rather than an extra fd (3/4): every language and
 * every platform (Windows included) has them without fd tricks, and existing language servers and
 * shell tools speak over them. The cost, a stray `print` corrupting the channel, is handled twice:
 * the kits (Node carrier, Python) move the language's own stdout to stderr before plugin code
 * runs, and a plugin that still writes garbage gets FRAME_INVALID/FRAME_TOO_LARGE: its channel
 * closes, its calls fail with that code, and the host goes on.
 */
import { Console } from 'node:console'
import type { Readable, Writable } from 'node:stream'
import type { PluginSide } from '../registry/types.js'
import { PolyplugError } from '../rpc/errors.js'
import { TransportErrorCodes } from '../errors/transport.js'
import type { SidecarContext, SidecarEndpoint, SidecarTransport } from './sidecar.js'
import { channelPluginSide } from './sidecar-plugin.js'
import { sendBufferGrower } from './buffer-size.js'
import { streamChannel } from './stream.js'
import { adoptReads } from './adopt-reads.js'

export const stdioTransport: SidecarTransport = {
  name: 'stdio',
  async prepare(context: SidecarContext): Promise<SidecarEndpoint> {
    return {
      env: {},
      usesStdio: true,
      async connect(child) {
        if (!child.stdin || !child.stdout) throw new PolyplugError(TransportErrorCodes.TRANSPORT_UNAVAILABLE, 'the child has no stdin/stdout pipes', { plugin: context.id })
        // The child's stdio are Unix socketpairs (libuv), not pipes: this end's send buffer grows once a large frame crosses.
        // Its stdout is read into the channel's memory (adopt-reads.ts).
        const { socket, reads } = adoptReads(child.stdout)
        return streamChannel(socket, child.stdin, { framing: context.framing, maxFrameBytes: context.maxFrameBytes, reads, onFrameBytes: sendBufferGrower(child.stdin) })
      },
      async dispose() {},
    }
  },
}

/** Plugin side: the channel over this process's own stdin and stdout. */
export function stdioStreams(): { readable: Readable; writable: Writable } {
  return { readable: process.stdin, writable: process.stdout }
}

/** Over stdio the real stdout is the channel: plugin code's console.log and stdout writes go to stderr. */
function guardStdout(): void {
  const real = process.stdout
  void real // create the fd-1 stream now, for the channel, before hiding it
  Object.defineProperty(process, 'stdout', { configurable: true, get: () => process.stderr })
  Object.defineProperty(globalThis, 'console', { configurable: true, writable: true, value: new Console({ stdout: process.stderr, stderr: process.stderr }) })
}

export const stdioPluginSide: PluginSide = channelPluginSide(async ({ framing, maxFrameBytes }) => {
  const { readable, writable } = stdioStreams()
  // Its stdin, not read yet, is read into the channel's memory as on the host's end (adopt-reads.ts).
  const { socket, reads } = adoptReads(readable)
  return streamChannel(socket, writable, { framing, maxFrameBytes, reads, onFrameBytes: sendBufferGrower(writable) })
}, guardStdout)
