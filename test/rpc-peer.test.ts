import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryPair } from '../src/channels/memory.js'
import type { Carries } from '../src/channels/channel.js'
import { jsonCodec, type Codec } from '../src/rpc/codec.js'
import { msgpackCodec } from '../src/rpc/msgpack.js'
import { Peer, type PeerOptions } from '../src/rpc/peer.js'
import { PolyplugError } from '../src/rpc/errors.js'
import type { CallContext } from '../src/rpc/types.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'

function pair(options: { carries?: Carries; codec?: Codec } & PeerOptions = {}) {
  const [a, b] = createMemoryPair({ carries: options.carries ?? 'structured-clone' })
  const client = new Peer(a, { ...options, name: 'client-side' })
  const server = new Peer(b, { ...options, name: 'calc' })
  return { client, server, a, b }
}

const api = {
  add: (x: number, y: number) => x + y,
  echo: <T>(v: T) => v,
  fail(code: string): never {
    throw new PolyplugError(code, 'it failed', { data: { detail: 42 } })
  },
  plainThrow(): never {
    throw new Error('plain error')
  },
  wait(ms: number, ctx: CallContext) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve(ms), ms)
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t)
        reject(new PolyplugError('RPC_CANCELLED', 'stopped'))
      })
    })
  },
}

const encodings: { label: string; carries: Carries; codec?: Codec }[] = [
  { label: 'structured clone', carries: 'structured-clone' },
  { label: 'JSON bytes', carries: 'bytes', codec: jsonCodec },
  { label: 'MessagePack bytes', carries: 'bytes', codec: msgpackCodec },
  { label: 'JSON text', carries: 'text' },
]

for (const encoding of encodings) {
  describe(`Peer over ${encoding.label}`, () => {
    it('answers requests, and the typed proxy calls them', async () => {
      const { client, server } = pair(encoding)
      server.expose(api)
      const calc = client.proxy<typeof api>()
      assert.equal(await calc.add(2, 3), 5)
      assert.deepEqual(await calc.echo({ nested: [1, 'two', null] }), { nested: [1, 'two', null] })
    })

    it('carries Uint8Array values losslessly, in both directions', async () => {
      const { client, server } = pair(encoding)
      server.expose(api)
      const data = new Uint8Array(1000).map((_, i) => (i * 7) & 255)
      const back = await client.call<{ blob: Uint8Array }>('echo', [{ blob: data }])
      assert.ok(back.blob instanceof Uint8Array)
      assert.deepEqual([...back.blob], [...data])
    })

    it('turns a thrown error into a typed error with code, message, data, plugin and method, without the stack', async () => {
      const { client, server } = pair(encoding)
      server.expose(api)
      const error = await rejectsWithCode(client.call('fail', ['E_CUSTOM']), 'E_CUSTOM')
      assert.equal(error.message, 'it failed')
      assert.deepEqual(error.data, { detail: 42 })
      assert.equal(error.plugin, 'calc')
      assert.equal(error.method, 'fail')
      assert.ok(!String(error.stack).includes('rpc-peer.test'), 'the remote stack must not cross the wire')
      const plain = await rejectsWithCode(client.call('plainThrow'), 'INTERNAL_ERROR')
      assert.equal(plain.message, 'plain error')
    })

    it('rejects a call to an unknown method with METHOD_NOT_FOUND', async () => {
      const { client, server } = pair(encoding)
      server.expose(api)
      await rejectsWithCode(client.call('nope'), 'METHOD_NOT_FOUND')
    })
  })
}

describe('Peer deadlines and cancellation', () => {
  it('times out a slow call with RPC_TIMEOUT and cancels the handler on the other side', async () => {
    const { client, server } = pair()
    let aborted: unknown
    server.handle('slow', (_p, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => {
      aborted = ctx.signal.reason ?? true
      reject(new Error('aborted'))
    })))
    await rejectsWithCode(client.call('slow', [], { timeout: 30 }), 'RPC_TIMEOUT')
    await until(() => aborted !== undefined, 10_000, 'the handler saw its signal abort')
    assert.equal(client.pendingCount, 0)
  })

  it('uses the peer-wide default timeout', async () => {
    const { client, server } = pair({ timeout: 25 })
    server.expose(api)
    await rejectsWithCode(client.call('wait', [1000]), 'RPC_TIMEOUT')
    assert.equal(await client.call('wait', [1], { timeout: 10_000 }), 1, 'a call given its own deadline still works')
  })

  it('times out each of several calls in flight at its own deadline, the one first made as well as the later ones', async () => {
    const { client, server } = pair()
    server.expose(api)
    const first = client.call('wait', [60_000], { timeout: 30 })
    const answered = client.call('wait', [1], { timeout: 10_000 })
    const later = client.call('wait', [60_000], { timeout: 60 })
    assert.equal(client.pendingCount, 3)
    await rejectsWithCode(first, 'RPC_TIMEOUT')
    assert.equal(await answered, 1)
    await rejectsWithCode(later, 'RPC_TIMEOUT')
    assert.equal(client.pendingCount, 0)
    assert.equal(await client.call('echo', [5]), 5, 'a call after them is answered')
  })

  it('sends $/cancel when the caller aborts, and the handler receives it as an aborted signal', async () => {
    const { client, server } = pair({ carries: 'bytes' })
    const seen: string[] = []
    server.handle('wait', (_p, ctx) => new Promise((_r, reject) => {
      seen.push('handler started')
      ctx.signal.addEventListener('abort', () => {
        seen.push('handler aborted')
        reject(new Error('x'))
      })
    }))
    const controller = new AbortController()
    const call = client.call('wait', [], { signal: controller.signal })
    await until(() => seen.length === 1, 10_000, 'the handler started')
    controller.abort()
    await rejectsWithCode(call, 'RPC_CANCELLED')
    await until(() => seen.length === 2, 10_000, 'the handler saw the cancel')
    assert.deepEqual(seen, ['handler started', 'handler aborted'])
  })

  it("cancels with LSP's $/cancelRequest when told to, and accepts it like $/cancel", async () => {
    const [a, b] = createMemoryPair({ carries: 'bytes' })
    const client = new Peer(a, { name: 'client-side', cancelMethod: '$/cancelRequest' })
    const server = new Peer(b, { name: 'lsp' })
    const sent: string[] = []
    const original = a.send.bind(a)
    a.send = (message: unknown) => {
      const text = typeof message === 'string' ? message : new TextDecoder().decode(message as Uint8Array)
      sent.push((JSON.parse(text) as { method?: string }).method ?? 'response')
      return original(message)
    }
    let started = false
    let aborted = false
    server.handle('wait', (_p, ctx) => {
      started = true
      return new Promise((_r, reject) =>
        ctx.signal.addEventListener('abort', () => {
          aborted = true
          reject(new Error('aborted'))
        }),
      )
    })
    const controller = new AbortController()
    const call = client.call('wait', [], { signal: controller.signal })
    await until(() => started)
    controller.abort()
    await rejectsWithCode(call, 'RPC_CANCELLED')
    await until(() => aborted)
    assert.deepEqual(sent, ['wait', '$/cancelRequest'])
  })

  it('refuses a call whose signal is already aborted without sending it', async () => {
    const { client, server } = pair()
    let ran = false
    server.handle('x', () => (ran = true))
    server.handle('after', () => 'after')
    await rejectsWithCode(client.call('x', [], { signal: AbortSignal.abort() }), 'RPC_CANCELLED')
    // Messages on a channel arrive in order: once a later call is answered, an earlier one would have run.
    assert.equal(await client.call('after'), 'after')
    assert.equal(ran, false)
  })

  it('delivers progress notifications to the caller', async () => {
    const { client, server } = pair()
    server.handle('count', (_p, ctx) => {
      for (let i = 1; i <= 3; i++) ctx.progress(i)
      return 'done'
    })
    const seen: unknown[] = []
    assert.equal(await client.call('count', [], { onProgress: (v) => seen.push(v) }), 'done')
    assert.deepEqual(seen, [1, 2, 3])
  })
})

describe('Peer on channel close', () => {
  it('rejects every pending call at once, leaving none pending, and aborts handlers in flight', async () => {
    const { client, server } = pair()
    let started = 0
    let handlerAborted = false
    server.handle('never', (_p, ctx) => {
      started++
      return new Promise(() => ctx.signal.addEventListener('abort', () => (handlerAborted = true)))
    })
    const calls = [client.call('never'), client.call('never'), client.call('never')]
    await until(() => started === 3, 10_000, 'three handlers running')
    assert.equal(client.pendingCount, 3)
    await client.close()
    for (const call of calls) await rejectsWithCode(call, 'CHANNEL_CLOSED')
    assert.equal(client.pendingCount, 0)
    await until(() => handlerAborted, 10_000, 'the handler in flight aborted')
  })

  it('rejects with the close reason when the channel closed with a typed error', async () => {
    const { client, a } = pair()
    const call = client.call('anything')
    await a.close(new PolyplugError('PLUGIN_CRASHED', 'boom'))
    const error = await rejectsWithCode(call, 'PLUGIN_CRASHED')
    assert.equal(error.method, 'anything')
    await rejectsWithCode(client.call('later'), 'PLUGIN_CRASHED')
  })
})

describe('Peer limits and malformed input', () => {
  it('refuses to send a message over the size limit, with FRAME_TOO_LARGE', async () => {
    const { client, server } = pair({ carries: 'bytes', maxMessageBytes: 1024 })
    server.expose(api)
    await rejectsWithCode(client.call('echo', ['x'.repeat(2000)]), 'FRAME_TOO_LARGE')
    assert.equal(await client.call('echo', ['small']), 'small', 'the channel is still usable')
  })

  it('answers with FRAME_TOO_LARGE when the result is over the limit', async () => {
    const { client, server } = pair({ carries: 'bytes', maxMessageBytes: 1024 })
    server.handle('big', () => 'y'.repeat(5000))
    await rejectsWithCode(client.call('big'), 'FRAME_TOO_LARGE')
  })

  it('closes the channel on an oversized incoming message, failing pending calls with FRAME_TOO_LARGE', async () => {
    const [a, b] = createMemoryPair({ carries: 'bytes' })
    const errors: string[] = []
    const client = new Peer(a, { maxMessageBytes: 100, onProtocolError: (e) => errors.push(e.code) })
    const pending = client.call('x')
    b.send(new Uint8Array(500))
    await rejectsWithCode(pending, 'FRAME_TOO_LARGE')
    assert.deepEqual(errors, ['FRAME_TOO_LARGE'])
  })

  it('refuses messages nested deeper than the limit', async () => {
    const { client, server } = pair({ maxDepth: 10 })
    server.expose(api)
    let deep: unknown = 'leaf'
    for (let i = 0; i < 20; i++) deep = [deep]
    await rejectsWithCode(client.call('echo', [deep]), 'MESSAGE_TOO_DEEP')
  })

  it('fails the call when the response nests deeper than the limit', async () => {
    const [a, b] = createMemoryPair()
    const client = new Peer(a, { maxDepth: 10 })
    const server = new Peer(b, { maxDepth: 1000 })
    let deep: unknown = 'leaf'
    for (let i = 0; i < 20; i++) deep = [deep]
    server.handle('deep', () => deep)
    await rejectsWithCode(client.call('deep'), 'MESSAGE_TOO_DEEP')
    assert.equal(client.pendingCount, 0)
  })

  // A short message is not walked for its depth (it cannot nest past the limit): the shortest
  // message that does, in each encoding, is still refused.
  for (const [label, carries, codec, deepest, justUnder] of [
    ['JSON text', 'text', jsonCodec, '['.repeat(13) + ']'.repeat(13), '['.repeat(12) + ']'.repeat(12)],
    ['JSON bytes', 'bytes', jsonCodec, new TextEncoder().encode('['.repeat(13) + ']'.repeat(13)), new TextEncoder().encode('['.repeat(12) + ']'.repeat(12))],
    // MessagePack: 0x91 opens an array of one, 0x90 is an empty array — one byte per level.
    ['MessagePack', 'bytes', msgpackCodec, new Uint8Array([...Array(12).fill(0x91), 0x90]), new Uint8Array([...Array(11).fill(0x91), 0x90])],
  ] as const) {
    it(`refuses the shortest message nesting past the limit (${label})`, async () => {
      const [a, b] = createMemoryPair({ carries })
      const errors: string[] = []
      new Peer(b, { maxDepth: 10, codec, onProtocolError: (e) => errors.push(e.code) })
      // 13 levels is past maxDepth + 2 (the envelope's object and params array); 12 is not, and is merely not a message.
      await a.send(justUnder)
      await a.send(deepest)
      await until(() => errors.length === 2)
      assert.deepEqual(errors, ['INVALID_REQUEST', 'MESSAGE_TOO_DEEP'])
    })
  }

  it('answers malformed bytes with a PARSE_ERROR response and keeps serving', async () => {
    const [a, b] = createMemoryPair({ carries: 'bytes' })
    const errors: string[] = []
    const server = new Peer(b, { onProtocolError: (e) => errors.push(e.code) })
    server.handle('ping2', () => 'pong')
    const replies: unknown[] = []
    a.onMessage((m) => replies.push(JSON.parse(new TextDecoder().decode(m as Uint8Array))))
    await a.send(new TextEncoder().encode('{not json'))
    await a.send(new Uint8Array([0xff, 0xfe, 0x00]))
    await a.send(new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping2' })))
    await until(() => replies.length === 3, 10_000, 'three replies')
    assert.deepEqual(errors, ['PARSE_ERROR', 'PARSE_ERROR'])
    assert.equal((replies[0] as { error: { code: number } }).error.code, -32700)
    assert.deepEqual(replies[2], { jsonrpc: '2.0', id: 7, result: 'pong' })
  })

  it('answers invalid JSON-RPC shapes with INVALID_REQUEST naming the problem', async () => {
    const [a, b] = createMemoryPair()
    const server = new Peer(b)
    server.handle('m', () => 1)
    const replies: { id: unknown; error?: { message: string; data: { code: string } } }[] = []
    a.onMessage((m) => replies.push(m as (typeof replies)[number]))
    await a.send({ jsonrpc: '1.0', id: 1, method: 'm' })
    await a.send({ jsonrpc: '2.0', id: 2, method: 42 })
    await a.send({ jsonrpc: '2.0', id: 3, method: 'm', params: 'flat' })
    await a.send('just a string')
    // A valid request last: once it is answered, every reply to the messages before it has arrived.
    await a.send({ jsonrpc: '2.0', id: 'last', method: 'm' })
    await until(() => replies.some((r) => r.id === 'last'), 10_000, 'the answer to the last request')
    replies.pop()
    assert.deepEqual(replies.map((r) => [r.id, r.error?.data.code]), [
      [1, 'INVALID_REQUEST'],
      [2, 'INVALID_REQUEST'],
      [3, 'INVALID_REQUEST'],
    ])
    assert.match(replies[0]?.error?.message ?? '', /jsonrpc must be "2.0"/)
  })

  it('refuses a request that reuses the id of one still in flight', async () => {
    const [a, b] = createMemoryPair()
    const server = new Peer(b)
    let runs = 0
    server.handle('slow', () => {
      runs++
      return new Promise((r) => setTimeout(() => r('done'), 30))
    })
    const replies: { id: unknown; result?: unknown; error?: { data: { code: string } } }[] = []
    a.onMessage((m) => replies.push(m as (typeof replies)[number]))
    await a.send({ jsonrpc: '2.0', id: 1, method: 'slow' })
    await a.send({ jsonrpc: '2.0', id: 1, method: 'slow' })
    await until(() => replies.length === 2, 10_000, 'both replies')
    assert.equal(runs, 1)
    assert.deepEqual(replies.map((r) => r.error?.data.code ?? r.result), ['DUPLICATE_REQUEST_ID', 'done'])
  })

  // A handler that answers at once never enters the Peer's in-flight table; while it runs it is
  // still in flight: a message delivered to the Peer from inside it (a synchronous channel) finds it.
  describe('a request is in flight while its handler runs, before it returns', () => {
    type Reply = { id: unknown; result?: unknown; error?: { data: { code: string } } }
    function syncPair() {
      const [a, b] = createMemoryPair({ sync: true })
      const server = new Peer(b)
      const replies: Reply[] = []
      a.onMessage((m) => replies.push(m as Reply))
      return { a, server, replies }
    }

    it('refuses a request reusing its id, sent from inside the handler', async () => {
      const { a, server, replies } = syncPair()
      server.handle('outer', () => {
        void a.send({ jsonrpc: '2.0', id: 7, method: 'inner' })
        return 'outer done'
      })
      server.handle('inner', () => 'inner ran')
      await a.send({ jsonrpc: '2.0', id: 7, method: 'outer' })
      await until(() => replies.length === 2, 10_000, 'both replies')
      assert.deepEqual(replies.map((r) => r.error?.data.code ?? r.result), ['DUPLICATE_REQUEST_ID', 'outer done'])
    })

    it('is cancelled by a $/cancel that arrives while the handler runs, and one that then returns a promise sees it', async () => {
      const { a, server, replies } = syncPair()
      let sawAbort: boolean | undefined
      server.handle('work', (_params, context) => {
        void a.send({ jsonrpc: '2.0', method: '$/cancel', params: { id: 3 } })
        sawAbort = context.signal.aborted
        return Promise.resolve('finished anyway')
      })
      await a.send({ jsonrpc: '2.0', id: 3, method: 'work' })
      await until(() => replies.length === 1, 10_000, 'the reply')
      assert.equal(sawAbort, true)
    })

    it('is aborted when the channel closes while the handler runs', async () => {
      const { a, server } = syncPair()
      let signal: AbortSignal | undefined
      server.handle('work', (_params, context) => {
        signal = context.signal
        void server.close()
        return new Promise(() => {})
      })
      await a.send({ jsonrpc: '2.0', id: 4, method: 'work' })
      await until(() => signal !== undefined, 10_000, 'the handler to run')
      assert.equal(signal?.aborted, true)
    })
  })

  it('a malformed answer (an error without a numeric code) fails its call at once and is not answered back', async () => {
    const [a, b] = createMemoryPair()
    const client = new Peer(a)
    const seen: { id?: number; method?: string }[] = []
    b.onMessage((m) => seen.push(m as { id: number }))
    const call = client.call('x')
    await until(() => seen.length === 1, 10_000, 'the request')
    await b.send({ jsonrpc: '2.0', id: seen[0]!.id, error: { message: 'no code' } })
    const error = await rejectsWithCode(call, 'INVALID_REQUEST')
    assert.match(error.message, /error must be an object with a numeric code/)
    assert.equal(seen.filter((m) => m.method === undefined).length, 0, 'no reply was sent to the malformed answer')
  })

  it('ignores responses to unknown ids (late answers after a timeout)', async () => {
    const [a, b] = createMemoryPair()
    const client = new Peer(a)
    const requests: { id: number }[] = []
    b.onMessage((m) => requests.push(m as { id: number }))
    const call = client.call('x')
    await until(() => requests.length === 1, 10_000, 'the request')
    await b.send({ jsonrpc: '2.0', id: 999, result: 'late' })
    assert.equal(client.pendingCount, 1, 'the unknown id answered nothing')
    await b.send({ jsonrpc: '2.0', id: requests[0]!.id, result: 'right' })
    assert.equal(await call, 'right')
    assert.equal(client.pendingCount, 0)
  })
})

describe('Peer notifications', () => {
  it('delivers notifications to handlers without a response', async () => {
    const { client, server } = pair()
    const got: unknown[] = []
    server.handle('note', (params) => {
      got.push(params)
    })
    await client.notify('note', ['a', 1])
    await until(() => got.length === 1, 10_000, 'the notification')
    assert.deepEqual(got, [['a', 1]])
  })

  it('a handler that throws or rejects with undefined fails the call; it is not an answer', async () => {
    const { client, server } = pair()
    server.handle('throwsUndefined', () => {
      throw undefined
    })
    server.handle('rejectsUndefined', () => Promise.reject(undefined))
    await rejectsWithCode(client.call('throwsUndefined'), 'INTERNAL_ERROR')
    await rejectsWithCode(client.call('rejectsUndefined'), 'INTERNAL_ERROR')
  })

  it('answers $/ping on its own', async () => {
    const { client } = pair()
    assert.deepEqual(await client.call('$/ping'), {})
  })
})

describe('Peer: the end of a call told to `ended`', () => {
  it('is told once, before the promise settles: without an error for an answer, with the typed error for a failure', async () => {
    const { client, server } = pair()
    server.expose(api)
    const told: unknown[] = []
    let settled = false
    const answer = client.call('echo', [5], {}, (error) => told.push(error ?? (settled ? 'ok, after' : 'ok, before')))
    void answer.then(() => (settled = true))
    const failure = client.call('fail', ['BOOM'], {}, (error) => told.push(error?.code))
    assert.equal(await answer, 5)
    await rejectsWithCode(failure, 'BOOM')
    assert.deepEqual(told, ['ok, before', 'BOOM'])
  })

  it('is told for a call refused before it was sent, and for a deadline', async () => {
    const { client, server } = pair()
    server.expose(api)
    const told: (string | undefined)[] = []
    const aborted = new AbortController()
    aborted.abort()
    await rejectsWithCode(client.call('echo', [1], { signal: aborted.signal }, (e) => told.push(e?.code)), 'RPC_CANCELLED')
    await rejectsWithCode(client.call('wait', [5000], { timeout: 20 }, (e) => told.push(e?.code)), 'RPC_TIMEOUT')
    await client.close()
    await rejectsWithCode(client.call('echo', [1], {}, (e) => told.push(e?.code)), 'CHANNEL_CLOSED')
    assert.deepEqual(told, ['RPC_CANCELLED', 'RPC_TIMEOUT', 'CHANNEL_CLOSED'])
  })
})
