/** The framing layer: every framing, split at every byte, many per chunk, limits before allocation. */
import assert from 'node:assert/strict'
import { PassThrough, Transform } from 'node:stream'
import { describe, it } from 'node:test'
import { UNFILLED_MIN_BYTES, encodeFrame, FrameDecoder, FRAMINGS, type FramingName } from '../src/framing/framing.js'
import { binaryJsonCodec } from '../src/rpc/attachments.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { rejectsWithCode } from './support/assert-code.js'
import { describeChannel } from './support/channel-suite.js'
import { until } from './support/wait.js'

const enc = new TextEncoder()
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const concat = (parts: Uint8Array[]) => Buffer.concat(parts)

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof PolyplugError && e.code === code)
}

const messages = ['{"a":1}', '{"jsonrpc":"2.0","method":"é✓","params":["x"]}', '[]', '{"s":"' + 'z'.repeat(300) + '"}']

describe('framing', () => {
  for (const framing of FRAMINGS) {
    describe(framing, () => {
      const stream = concat(messages.flatMap((m) => encodeFrame(framing, enc.encode(m))))

      it('decodes many frames from one chunk', () => {
        const d = new FrameDecoder(framing)
        assert.deepEqual(d.push(stream).map(text), messages)
        assert.equal(d.buffered, 0)
      })

      it('decodes the same frames when the stream is split at every byte', () => {
        for (let cut = 1; cut < stream.length; cut++) {
          const d = new FrameDecoder(framing)
          const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))].map(text)
          assert.deepEqual(got, messages, `split at ${cut}`)
        }
      })

      it('decodes byte by byte', () => {
        const d = new FrameDecoder(framing)
        const got: string[] = []
        for (const byte of stream) got.push(...d.push(new Uint8Array([byte])).map(text))
        assert.deepEqual(got, messages)
        d.end()
      })

      it('refuses an oversized frame on both sides', () => {
        throwsCode(() => encodeFrame(framing, new Uint8Array(11), 10), 'FRAME_TOO_LARGE')
        const d = new FrameDecoder(framing, 10)
        throwsCode(() => d.push(concat(encodeFrame(framing, enc.encode('"' + 'x'.repeat(20) + '"')))), 'FRAME_TOO_LARGE')
        throwsCode(() => d.push(enc.encode('{}')), 'FRAME_TOO_LARGE') // a failed decoder stays failed
      })

      it('reports a truncated frame at end of stream', () => {
        const d = new FrameDecoder(framing)
        assert.deepEqual(d.push(stream.subarray(0, 3)), [])
        throwsCode(() => d.end(), 'FRAME_INVALID')
      })
    })
  }

  it('length: a 2 GiB header is refused before any body is buffered', () => {
    const d = new FrameDecoder('length')
    throwsCode(() => d.push(new Uint8Array([0x80, 0, 0, 0])), 'FRAME_TOO_LARGE')
    throwsCode(() => new FrameDecoder('length').push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1])), 'FRAME_TOO_LARGE')
  })

  it('length: carries binary bodies, newlines and zero bytes included', () => {
    const body = new Uint8Array([0, 10, 13, 255, 0x0a])
    const d = new FrameDecoder('length')
    assert.deepEqual([...(d.push(concat(encodeFrame('length', body)))[0] ?? [])], [...body])
  })

  it('content-length: tolerates other headers, any case; refuses malformed ones', () => {
    const d = new FrameDecoder('content-length')
    assert.deepEqual(d.push(enc.encode('content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:  2 \r\n\r\n{}')).map(text), ['{}'])
    throwsCode(() => new FrameDecoder('content-length').push(enc.encode('Content-Length: 2x\r\n\r\n{}')), 'FRAME_INVALID')
    throwsCode(() => new FrameDecoder('content-length').push(enc.encode('Content-Type: x\r\n\r\n{}')), 'FRAME_INVALID')
    throwsCode(() => new FrameDecoder('content-length').push(enc.encode('garbage\r\n\r\n')), 'FRAME_INVALID')
    throwsCode(() => new FrameDecoder('content-length').push(enc.encode('Content-Length: 99999999999\r\n\r\n')), 'FRAME_TOO_LARGE')
    throwsCode(() => new FrameDecoder('content-length').push(new Uint8Array(9000).fill(0x41)), 'FRAME_INVALID')
    throwsCode(() => new FrameDecoder('content-length').push(new Uint8Array([0xc3, 0x28, 0x3a, 0x20, 0x31, 13, 10, 13, 10])), 'FRAME_INVALID')
  })

  it('ndjson: skips blank lines, drops \\r, refuses invalid UTF-8 and over-long lines', () => {
    const d = new FrameDecoder('ndjson')
    assert.deepEqual(d.push(enc.encode('\n{"a":1}\r\n\n[2]\n')).map(text), ['{"a":1}', '[2]'])
    throwsCode(() => new FrameDecoder('ndjson').push(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d, 0x0a])), 'FRAME_INVALID')
    throwsCode(() => new FrameDecoder('ndjson', 8).push(enc.encode('x'.repeat(20))), 'FRAME_TOO_LARGE')
    throwsCode(() => encodeFrame('ndjson', new Uint8Array([1, 10, 2])), 'FRAME_INVALID')
  })

  describe('a large frame arriving in pieces (joined into memory not zero-filled first)', () => {
    const big = new Uint8Array(UNFILLED_MIN_BYTES + 1000).map((_, i) => (i * 7) & 255)
    const small = enc.encode('{"after":1}')
    for (const framing of ['length', 'content-length'] as const) {
      const stream = concat([...encodeFrame(framing, big), ...encodeFrame(framing, small), ...encodeFrame(framing, big)])
      const cuts = [1, 3, 4, 5, 100, UNFILLED_MIN_BYTES, big.byteLength, big.byteLength + 3, big.byteLength + 4, big.byteLength + 30, stream.length - 1]

      it(`${framing}: the same frames whichever two cuts split the stream, the frame behind a large one included`, () => {
        for (const a of cuts) {
          for (const b of cuts) {
            if (b <= a) continue
            const d = new FrameDecoder(framing)
            const got = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)].flatMap((chunk) => d.push(chunk))
            assert.equal(got.length, 3, `cuts ${a}, ${b}`)
            assert.deepEqual([...got.map((f) => f.byteLength)], [big.byteLength, small.byteLength, big.byteLength], `cuts ${a}, ${b}`)
            assert.ok(Buffer.from(got[0]!).equals(big) && Buffer.from(got[2]!).equals(big) && text(got[1]!) === '{"after":1}', `cuts ${a}, ${b}`)
            assert.equal(d.buffered, 0)
            d.end()
          }
        }
      })

      it(`${framing}: counts the bytes of a partial large frame and reports it truncated at end of stream`, () => {
        const d = new FrameDecoder(framing)
        const frame = concat(encodeFrame(framing, big))
        const head = frame.byteLength - big.byteLength
        assert.deepEqual(d.push(frame.subarray(0, head + 10)), [])
        assert.deepEqual(d.push(frame.subarray(head + 10, head + 5000)), [])
        assert.equal(d.buffered, 5000)
        throwsCode(() => d.end(), 'FRAME_INVALID')
      })
    }

    it('each frame is its own memory, every byte of it written: chunks changed after it was cut, or a later frame, change nothing in it', () => {
      const d = new FrameDecoder('length')
      const frame = concat(encodeFrame('length', big))
      const first = frame.subarray(0, 5000)
      const second = frame.subarray(5000)
      assert.deepEqual(d.push(first), [])
      const [body] = d.push(second)
      assert.ok(body && Buffer.from(body).equals(big))
      assert.equal(body.byteOffset, 0)
      assert.equal(body.buffer.byteLength, big.byteLength)
      first.fill(0) // the sender reuses its buffers once the frame is out
      second.fill(0)
      const other = concat(encodeFrame('length', big.map((x) => x ^ 0xff)))
      const [next] = [...d.push(other.subarray(0, 70_000)), ...d.push(other.subarray(70_000))]
      assert.ok(next && next.buffer !== body.buffer && next.every((x, i) => x === (((i * 7) & 255) ^ 0xff)))
      assert.ok(Buffer.from(body).equals(big))
    })
  })

  it('rejects an unknown framing name', () => {
    throwsCode(() => new FrameDecoder('xml' as FramingName), 'FRAME_INVALID')
  })
})

function pipePair(framing: FramingName, maxFrameBytes?: number) {
  const a = new PassThrough()
  const b = new PassThrough()
  return { host: streamChannel(a, b, { framing, maxFrameBytes }), plugin: streamChannel(b, a, { framing, maxFrameBytes }), a, b }
}

for (const framing of FRAMINGS) {
  describeChannel(`stream channel over in-process pipes (${framing})`, async () => {
    const { host, plugin } = pipePair(framing)
    return { host, plugin }
  })
}

describe('streamChannel', () => {
  it('garbage on the stream closes that channel with FRAME_INVALID and fails its pending calls', async () => {
    const a = new PassThrough()
    const b = new PassThrough()
    const host = streamChannel(a, b, { framing: 'content-length' })
    const peer = new Peer(host, { name: 'p' })
    const call = peer.call('never')
    let closedWith: unknown
    host.onClose((e) => (closedWith = e))
    a.write('this is not a header\r\n\r\n')
    await rejectsWithCode(call, 'FRAME_INVALID')
    await until(() => closedWith !== undefined)
    assert.equal((closedWith as PolyplugError).code, 'FRAME_INVALID')
  })

  it('1 MiB of bytes arriving in 64 KiB chunks: the caller and the handler each keep their own bytes, which later messages do not touch', async () => {
    // What a socket does to a large frame: every write reaches the other end in 64 KiB pieces.
    const chop = () => new Transform({
      transform(chunk: Buffer, _encoding, done) {
        for (let at = 0; at < chunk.byteLength; at += 64 * 1024) this.push(chunk.subarray(at, at + 64 * 1024))
        done()
      },
    })
    const [toPlugin, toHost] = [chop(), chop()]
    const host = new Peer(streamChannel(toHost, toPlugin), { codec: binaryJsonCodec })
    const plugin = new Peer(streamChannel(toPlugin, toHost), { codec: binaryJsonCodec })
    const held: Uint8Array[] = []
    plugin.handle('echo', (params) => {
      const [bytes] = params as [Uint8Array]
      held.push(bytes)
      return bytes
    })
    const filled = (value: number) => new Uint8Array(1024 * 1024).fill(value)
    const all = (bytes: Uint8Array | undefined, value: number) => bytes !== undefined && bytes.byteLength === 1024 * 1024 && bytes.every((b) => b === value)
    const first = (await host.call('echo', [filled(1)])) as Uint8Array
    const second = (await host.call('echo', [filled(2)])) as Uint8Array
    assert.ok(all(first, 1) && all(second, 2), 'each answer holds its own payload')
    assert.ok(all(held[0], 1) && all(held[1], 2), 'each request the handler kept holds its own payload')
    assert.notEqual(first.buffer, second.buffer)
    assert.notEqual(held[0]!.buffer, held[1]!.buffer)
    await Promise.all([host.close(), plugin.close()])
  })

  it('a 2 GiB length header closes the channel with FRAME_TOO_LARGE', async () => {
    const a = new PassThrough()
    const host = streamChannel(a, new PassThrough())
    const peer = new Peer(host)
    const call = peer.call('x')
    a.write(Buffer.from([0x80, 0, 0, 0]))
    await rejectsWithCode(call, 'FRAME_TOO_LARGE')
  })
})
