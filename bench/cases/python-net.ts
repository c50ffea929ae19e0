/**
 * The Python kit over http and ws (kits/python/polyplug_http.py): polyplug calls to the Python
 * conformance plugin in its own process — by POST, and over its WebSocket — against a raw Python
 * echo on the same standard-library server and the same WebSocket code, with no JSON-RPC
 * (bench/workers/raw-python-http-echo.py). Small-call round trip and a 1 MiB binary echo, with
 * bytes as attachments agreed in `$/hello` as a host does (the raw echo carries the same bytes: a
 * binary frame, an octet-stream body). What remains is the kit's cost: JSON decode/encode, a
 * thread per request, routing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request, Agent } from 'node:http'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import { stringify } from '../../src/rpc/codec.js'
import { connectHttp } from '../../src/transports/http.js'
import { awaitListenLine } from '../../src/transports/http-sidecar.js'
import { BIG_PAYLOAD, compare, row, type BenchRow } from '../measure.js'
import { agreedPeer, attachedFrame } from '../attach.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const MiB = 1 << 20
const TOKEN = '0123456789abcdef0123456789abcdef'
const small = stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
const big = new Uint8Array(MiB).map((_, i) => i & 255)
const bigFrame = attachedFrame(big)

async function python(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('python3', [`${root}${script}`], { env: { PATH: process.env.PATH ?? '', POLYPLUG_HOST_PID: String(process.pid), ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  return { child, url: await awaitListenLine(child, AbortSignal.timeout(10_000)) }
}

/** Raw keep-alive POSTs and a raw WebSocket (compression off) to the raw Python echo. */
async function rawClients(url: string) {
  const agent = new Agent({ keepAlive: true })
  const post = (body: string | Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const req = request(`${url}/rpc`, { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve(Buffer.concat(chunks)))
      })
      req.on('error', reject)
      req.end(body)
    })
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { perMessageDeflate: false, maxPayload: 64 * MiB })
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
  const waiters: ((m: unknown) => void)[] = []
  ws.on('message', (m) => waiters.shift()?.(m))
  return {
    post,
    ws: (data: string | Buffer) => new Promise((resolve) => (waiters.push(resolve), ws.send(data, { binary: typeof data !== 'string' }))),
    close() {
      ws.terminate()
      agent.destroy()
    },
  }
}

export async function run(): Promise<BenchRow[]> {
  const plugin = await python('examples/shared/conformance.py', {
    POLYPLUG_TRANSPORT: 'ws',
    POLYPLUG_TOKEN: TOKEN,
    POLYPLUG_PLUGIN_ID: 'bench-python',
    POLYPLUG_MAX_BODY_BYTES: String(64 * MiB),
  })
  const raw = await python('bench/workers/raw-python-http-echo.py', {})
  const overPost = await agreedPeer(await connectHttp({ url: plugin.url, token: TOKEN, calls: 'post', maxBodyBytes: 64 * MiB }), 'bench-python')
  const overWs = await agreedPeer(await connectHttp({ url: plugin.url, token: TOKEN, calls: 'ws', maxBodyBytes: 64 * MiB }), 'bench-python')
  const clients = await rawClients(raw.url)
  try {
    const common = { kind: 'exec', placement: 'process' }
    const [p, pw, b, bw] = await compare(
      [() => overPost.call('echo', [1]), () => overWs.call('echo', [1]), () => clients.post(small), () => clients.ws(small)],
      { batch: 200, rounds: 9, warmup: 300 },
    )
    const opts = BIG_PAYLOAD
    const [pb, pwb, bb, bwb] = await compare(
      [() => overPost.call('echo', [big]), () => overWs.call('echo', [big]), () => clients.post(bigFrame), () => clients.ws(bigFrame)],
      opts,
    )
    return [
      row({ name: 'python http POST echo', ...common, transport: 'http', polyplug: p!, baseline: b! }),
      row({ name: 'python ws echo', ...common, transport: 'ws', polyplug: pw!, baseline: bw! }),
      row({ name: 'python http POST 1 MiB echo', ...common, transport: 'http', metric: '1MiB-echo', polyplug: pb!, baseline: bb! }),
      row({ name: 'python ws 1 MiB echo', ...common, transport: 'ws', metric: '1MiB-echo', polyplug: pwb!, baseline: bwb! }),
    ]
  } finally {
    clients.close()
    await overPost.close()
    await overWs.close()
    plugin.child.kill()
    raw.child.kill()
  }
}
