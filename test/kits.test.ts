/**
 * The C and Rust sidecar kits (kits/c-sidecar, kits/rust-sidecar), driven over a raw stdio pipe with
 * length framing: what a plugin written on them does with malformed and hostile input, the
 * lifecycle rules of docs/protocol.md (§5, §9), and their concurrency under a real host.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { examplesDir, root } from './support/paths.js'
import { within } from './support/wait.js'
import { describeRequiring } from './support/describe-requiring.js'
import { tools } from './support/requires.js'

const KITS = [
  { name: 'c', binary: `${examplesDir}/shared/bin/c-conformance`, example: 'c-stdio', needs: [tools.gcc, tools.jansson] },
  { name: 'rust', binary: `${root}kits/rust-sidecar/target/release/rust-conformance`, example: 'rust-stdio', needs: [tools.cargo, tools.serdeJson] },
]
const TOKEN = '0123456789abcdef0123456789abcdef'

interface Message {
  id?: unknown
  result?: unknown
  error?: { code: number; message: string; data?: { code?: string } }
  method?: string
  params?: unknown
}

/** A kit plugin on a raw stdio pipe: we play the host, byte for byte. */
class Raw {
  readonly child: ChildProcess
  private buffer = Buffer.alloc(0)
  private readonly queue: Message[] = []
  private waiter: (() => void) | undefined
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>

  constructor(binary: string, env: Record<string, string> = {}) {
    this.child = spawn(binary, [], {
      env: { ...process.env, POLYPLUG_TRANSPORT: 'stdio', POLYPLUG_PLUGIN_ID: 'raw', POLYPLUG_TOKEN: TOKEN, POLYPLUG_HOST_PID: String(process.pid), ...env },
      stdio: ['pipe', 'pipe', 'ignore'],
    })
    this.exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    this.child.stdin!.on('error', () => {})
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      while (this.buffer.length >= 4 && this.buffer.length >= 4 + this.buffer.readUInt32BE(0)) {
        const n = this.buffer.readUInt32BE(0)
        this.queue.push(JSON.parse(this.buffer.subarray(4, 4 + n).toString('utf8')) as Message)
        this.buffer = this.buffer.subarray(4 + n)
      }
      this.waiter?.()
    })
  }

  /** Sends one frame holding `body` (a string is sent as is, anything else as JSON). */
  send(body: unknown): void {
    const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const head = Buffer.alloc(4)
    head.writeUInt32BE(bytes.length)
    this.child.stdin!.write(Buffer.concat([head, bytes]))
  }

  /** The next message from the plugin (skipping $/log notifications). */
  async next(): Promise<Message> {
    for (;;) {
      const m = this.queue.shift()
      if (m && m.method === '$/log') continue
      if (m) return m
      await within(new Promise<void>((resolve) => (this.waiter = resolve)), 'a message from the plugin')
    }
  }

  async request(id: unknown, method: string, params?: unknown): Promise<Message> {
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })
    return this.next()
  }

  async hello(): Promise<Message> {
    return this.request(0, '$/hello', { protocol: [1], plugin: 'raw', host: { name: 'polyplug', version: '0', pid: process.pid }, encodings: ['json'] })
  }

  kill(): void {
    this.child.kill('SIGKILL')
  }
}

/** Runs `fn` against a fresh kit process, and kills it however `fn` ends. */
async function withRaw(binary: string, fn: (raw: Raw) => Promise<void>): Promise<void> {
  const raw = new Raw(binary)
  try {
    await fn(raw)
  } finally {
    raw.kill()
  }
}

const code = (m: Message) => m.error?.data?.code

for (const kit of KITS) {
  describeRequiring(`${kit.name} kit`, kit.needs, () => describeKit(kit))
}

function describeKit(kit: (typeof KITS)[number]): void {
  describe(`${kit.name} kit over a raw stdio pipe`, () => {
    it('answers $/hello with protocol 1, its methods and the launch token', async () => {
      await withRaw(kit.binary, async (raw) => {
        const answer = await raw.hello()
        const result = answer.result as { protocol: number; id: string; methods: string[]; token: string; capabilities: string[] }
        assert.equal(answer.id, 0)
        assert.equal(result.protocol, 1)
        assert.equal(result.id, 'raw')
        assert.equal(result.token, TOKEN)
        assert.deepEqual([...result.methods].sort(), ['add', 'bytes', 'callHost', 'cancelCount', 'count', 'crash', 'echo', 'fail', 'produced', 'sleep', 'sum'])
        assert.deepEqual(result.capabilities, ['streams'])
      })
    })

    it('refuses a protocol it does not speak with PROTOCOL_MISMATCH', async () => {
      await withRaw(kit.binary, async (raw) => {
        assert.equal(code(await raw.request(0, '$/hello', { protocol: [2] })), 'PROTOCOL_MISMATCH')
      })
    })

    it('answers malformed frames with PARSE_ERROR / INVALID_REQUEST / MESSAGE_TOO_DEEP and keeps serving', async () => {
      await withRaw(kit.binary, async (raw) => {
        await raw.hello()
        for (const junk of ['{"jsonrpc":', 'not json', '{"a":1}x', '"\\ud83d', '{"s":"\\q"}', '']) {
          const answer = await (raw.send(junk), raw.next())
          assert.equal(code(answer), 'PARSE_ERROR', `for ${JSON.stringify(junk)}`)
          assert.equal(answer.error?.code, -32700)
          assert.equal(answer.id, null)
        }
        for (const wrong of [[1, 2], { id: 7, method: 'echo' }, 'null', { jsonrpc: '2.0', id: 8, method: 'echo', params: 5 }]) {
          const answer = await (raw.send(wrong), raw.next())
          assert.equal(code(answer), 'INVALID_REQUEST', `for ${JSON.stringify(wrong)}`)
        }
        const deep = await (raw.send(`{"jsonrpc":"2.0","id":9,"method":"echo","params":[${'['.repeat(100)}${']'.repeat(100)}]}`), raw.next())
        assert.equal(code(deep), 'MESSAGE_TOO_DEEP')
        assert.equal(code(await raw.request(10, 'nope', [])), 'METHOD_NOT_FOUND')
        assert.deepEqual((await raw.request(11, 'add', [2, 40])).result, 42)
      })
    })

    it('round-trips escapes, surrogate pairs, control characters and bytes', async () => {
      await withRaw(kit.binary, async (raw) => {
        await raw.hello()
        const value = { s: 'q"b\\s/\n\t\u0000\u001f é ✓ 😀', n: [0, -0.5, 1e21, 123456789012, 3.141592653589793], b: [true, false, null], e: {}, a: [] }
        assert.deepEqual((await raw.request(1, 'echo', [value])).result, value)
        assert.deepEqual((await raw.request(2, 'echo', [{ $bytes: 'AAEC' }])).result, { $bytes: 'AAEC' })
        assert.deepEqual((await raw.request(3, 'bytes', [4])).result, { $bytes: 'AAECAw==' })
        assert.deepEqual((await raw.request('str-id', 'echo', ['x'])).id, 'str-id')
        // 64 levels of payload are allowed, as the Node peer allows them (docs/protocol.md §10)
        const deep = JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`) as unknown
        assert.deepEqual((await raw.request(4, 'echo', [deep])).result, deep)
      })
    })

    it('refuses a request id already in flight with DUPLICATE_REQUEST_ID, and $/cancel ends the sleep', async () => {
      await withRaw(kit.binary, async (raw) => {
        await raw.hello()
        raw.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: [5000] })
        assert.equal(code(await raw.request(1, 'echo', ['again'])), 'DUPLICATE_REQUEST_ID')
        raw.send({ jsonrpc: '2.0', method: '$/cancel', params: { id: 1 } })
        const answer = await raw.next()
        assert.equal(answer.id, 1)
        assert.equal(code(answer), 'RPC_CANCELLED')
        assert.equal((await raw.request(2, 'cancelCount', [])).result, 1)
      })
    })

    it('answers $/ping and $/shutdown, then exits with status 0', async () => {
      const raw = new Raw(kit.binary)
      await raw.hello()
      assert.deepEqual((await raw.request(1, '$/ping')).result, {})
      assert.deepEqual((await raw.request(2, '$/shutdown')).result, {})
      assert.deepEqual(await raw.exited, [0, null])
    })

    it('exits when its channel reaches end of stream', async () => {
      const raw = new Raw(kit.binary)
      await raw.hello()
      raw.child.stdin!.end()
      assert.deepEqual(await raw.exited, [0, null])
    })

    it('closes the channel on a frame over POLYPLUG_MAX_FRAME_BYTES instead of buffering it', async () => {
      const raw = new Raw(kit.binary, { POLYPLUG_MAX_FRAME_BYTES: '1000' })
      await raw.hello()
      const head = Buffer.alloc(4)
      head.writeUInt32BE(1_000_000)
      raw.child.stdin!.write(head)
      const [status] = await raw.exited
      assert.notEqual(status, 0)
    })

    it('exits when the process named by POLYPLUG_HOST_PID is gone, although its channel stays open', async () => {
      const fakeHost = spawn('sleep', ['60'], { stdio: 'ignore' })
      await once(fakeHost, 'spawn')
      const raw = new Raw(kit.binary, { POLYPLUG_HOST_PID: String(fakeHost.pid) })
      try {
        await raw.hello()
        fakeHost.kill('SIGKILL')
        await once(fakeHost, 'exit')
        // It notices by itself: nothing closes its channel. A kit that never checked would hang here.
        await within(raw.exited, 'the plugin exits once its host is gone')
      } finally {
        raw.kill()
        fakeHost.kill('SIGKILL')
      }
    })
  })

  describe(`${kit.name} kit under a real host`, () => {
    let host: Host
    before(async () => {
      host = await createHost({ plugins: [`${examplesDir}/${kit.example}`], logger: silentLogger, callTimeoutMs: 10_000 })
    })
    after(() => host.close())

    it('serves other calls, host calls included, while a sleep is in flight', async () => {
      const plugin = host.plugin(kit.example)
      const sleeping = plugin.call('sleep', [400])
      const [echoed, viaHost, added] = await Promise.all([plugin.call('echo', ['x']), plugin.call('callHost', ['host/echo', [{ n: 1 }]]), plugin.call('add', [1, 2])])
      assert.deepEqual([echoed, viaHost, added], ['x', { n: 1 }, 3])
      assert.equal(await sleeping, 400)
    })
  })
}

describeRequiring('both kits over every byte-stream transport and framing', KITS.flatMap((k) => k.needs), () => {
  const dirs: string[] = []
  let base: string
  let host: Host
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'polyplug-kits-'))
    for (const kit of KITS) {
      for (const transport of ['stdio', 'fifo', 'unix', 'tcp']) {
        for (const framing of ['length', 'content-length', 'ndjson']) {
          const id = `${kit.name}-${transport}-${framing}`
          const dir = join(base, id)
          await mkdir(dir)
          await writeFile(join(dir, 'polyplug.json'), JSON.stringify({ id, version: '1.0.0', kind: 'exec', entry: kit.binary, placement: 'process', transport, sidecar: { command: [kit.binary], framing } }))
          dirs.push(id)
        }
      }
    }
    host = await createHost({ plugins: dirs.map((id) => join(base, id)), logger: silentLogger, callTimeoutMs: 10_000 })
  })
  after(async () => {
    await host.close()
    await rm(base, { recursive: true, force: true })
  })

  it('every combination answers echo with bytes and a host call', async () => {
    const payload = new Uint8Array([0, 1, 2, 255])
    await Promise.all(dirs.map(async (id) => {
      const plugin = host.plugin(id)
      assert.deepEqual(await plugin.call('echo', [{ s: 'é\n', b: payload }]), { s: 'é\n', b: payload }, id)
      assert.deepEqual(await plugin.call('callHost', ['host/echo', ['via host']]), 'via host', id)
    }))
  })
})
